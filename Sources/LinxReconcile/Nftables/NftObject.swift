/// The unit of change an nf_tables pass reports: the table itself, a chain,
/// a rule, a set or map, or one element.
public enum NftObject: Sendable, Hashable, CustomStringConvertible {
    /// The table, with the flags it is (to be) created with.
    case table(NftTableRef, flags: NftTableFlags)
    /// A chain; `base` nil for a regular chain.
    case chain(String, base: NftBaseChain?)
    /// A rule of `chain`. A delete carries the kernel's `handle`.
    case rule(chain: String, text: String, handle: UInt64?)
    /// A set or map declaration (elements are their own objects).
    case set(NftSet)
    /// One element of a set or map.
    case element(set: String, value: String)

    /// How nft names the object (`chain input`, `rule input "tcp dport 22 accept"`).
    public var description: String {
        switch self {
        case .table(let ref, let flags):
            flags.names.isEmpty ? "table \(ref)" : "table \(ref) (flags \(flags.names.joined(separator: ",")))"
        case .chain(let name, let base):
            base.map { "chain \(name) { \($0) }" } ?? "chain \(name)"
        case .rule(let chain, let text, let handle):
            "rule \(chain) \(NftSyntax.quoted(text))" + (handle.map { " handle \($0)" } ?? "")
        case .set(let set):
            "\(set.kind) \(set.name) { \(set.declarationText) }"
        case .element(let set, let value):
            "element \(set) { \(value) }"
        }
    }
}
