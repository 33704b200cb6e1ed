/// One command of an nf_tables transaction. A batch of them is committed as
/// one transaction: the kernel carries out all of them or none.
///
/// Every command names its table explicitly, so a backend never needs
/// context to send it, and rules are referred to by the kernel's handle.
public enum NftCommand: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Creates the table (or leaves it if it exists), with `flags` and a `comment`.
    case addTable(NftTableRef, flags: NftTableFlags, comment: String?)
    /// Deletes the table with everything in it.
    case deleteTable(NftTableRef)
    /// Creates a chain, or updates a base chain's policy.
    case addChain(NftTableRef, name: String, base: NftBaseChain?)
    /// Deletes a chain and its rules (EBUSY while a rule jumps to it).
    case deleteChain(NftTableRef, name: String)
    /// Adds a rule at the end of `chain`, or before the rule with handle `before`.
    case addRule(NftTableRef, chain: String, rule: String, before: UInt64?)
    /// Deletes the rule with `handle` from `chain`.
    case deleteRule(NftTableRef, chain: String, handle: UInt64)
    /// Creates a set or map (its declaration only).
    case addSet(NftTableRef, NftSet)
    /// Deletes a set or map (EBUSY while a rule refers to it).
    case deleteSet(NftTableRef, name: String)
    /// Adds elements to a set or map.
    case addElements(NftTableRef, set: String, [String])
    /// Deletes elements from a set or map (ENOENT for a missing one).
    case deleteElements(NftTableRef, set: String, [String])

    /// The table the command acts on.
    public var table: NftTableRef {
        switch self {
        case .addTable(let t, _, _), .deleteTable(let t), .addChain(let t, _, _), .deleteChain(let t, _),
            .addRule(let t, _, _, _), .deleteRule(let t, _, _), .addSet(let t, _), .deleteSet(let t, _),
            .addElements(let t, _, _), .deleteElements(let t, _, _):
            t
        }
    }

    /// What the command acts on, as nft names it in an error (`chain inet t input`).
    public var object: String {
        switch self {
        case .addTable(let t, _, _), .deleteTable(let t): "table \(t)"
        case .addChain(let t, let name, _), .deleteChain(let t, let name): "chain \(t) \(name)"
        case .addRule(let t, let chain, let rule, _): "rule \(t) \(chain) \(NftSyntax.quoted(rule))"
        case .deleteRule(let t, let chain, let handle): "rule \(t) \(chain) handle \(handle)"
        case .addSet(let t, let set): "set \(t) \(set.name)"
        case .deleteSet(let t, let name), .addElements(let t, let name, _), .deleteElements(let t, let name, _): "set \(t) \(name)"
        }
    }

    /// The command in nft syntax, one line (what `nft -f` would read).
    public var description: String {
        switch self {
        case .addTable(let t, let flags, let comment):
            var body: [String] = []
            // nft 1.0.6 takes one flag per `flags` statement.
            body += flags.names.map { "flags \($0);" }
            if let comment { body.append("comment \(NftSyntax.quoted(comment));") }
            return body.isEmpty ? "add table \(t)" : "add table \(t) { \(body.joined(separator: " ")) }"
        case .deleteTable(let t):
            return "delete table \(t)"
        case .addChain(let t, let name, let base):
            return base.map { "add chain \(t) \(name) { \($0) }" } ?? "add chain \(t) \(name)"
        case .deleteChain(let t, let name):
            return "delete chain \(t) \(name)"
        case .addRule(let t, let chain, let rule, let before):
            return before.map { "insert rule \(t) \(chain) position \($0) \(rule)" } ?? "add rule \(t) \(chain) \(rule)"
        case .deleteRule(let t, let chain, let handle):
            return "delete rule \(t) \(chain) handle \(handle)"
        case .addSet(let t, let set):
            return "add \(set.kind) \(t) \(set.name) { \(set.declarationText) }"
        case .deleteSet(let t, let name):
            return "delete set \(t) \(name)"
        case .addElements(let t, let set, let elements):
            return "add element \(t) \(set) { \(elements.joined(separator: ", ")) }"
        case .deleteElements(let t, let set, let elements):
            return "delete element \(t) \(set) { \(elements.joined(separator: ", ")) }"
        }
    }
}

/// Table flags (NFT_TABLE_F_*).
public struct NftTableFlags: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// NFT_TABLE_F_DORMANT: the table's base chains are not attached.
    public static let dormant = NftTableFlags(rawValue: 1)
    /// NFT_TABLE_F_OWNER (5.12+): the table belongs to the netlink socket
    /// that created it; other sockets get EPERM; it goes when the socket closes.
    public static let owner = NftTableFlags(rawValue: 2)
    /// NFT_TABLE_F_PERSIST (6.9+): with `owner`, the table outlives its
    /// socket (it is orphaned and another socket may take it over).
    public static let persist = NftTableFlags(rawValue: 4)

    /// The flag names as nft prints them.
    public var names: [String] {
        var names: [String] = []
        if contains(.dormant) { names.append("dormant") }
        if contains(.owner) { names.append("owner") }
        if contains(.persist) { names.append("persist") }
        return names
    }
}

/// Small pieces of nft's syntax that more than one place writes.
public enum NftSyntax {
    /// `"text"` with nft's quoting (a quote inside is not expressible; it is dropped).
    public static func quoted(_ text: String) -> String {
        // No quote byte: no Character is a quote, nothing to drop (the
        // Character walk is the slow part, and most text has none).
        guard text.utf8.contains(UInt8(ascii: "\"")) else { return "\"" + text + "\"" }
        return quotedDroppingQuotes(text)
    }

    /// ``quoted(_:)``, Character by Character.
    static func quotedDroppingQuotes(_ text: String) -> String {
        "\"" + text.filter { $0 != "\"" } + "\""
    }
}
