/// The sysctls a network namespace (or, with care, the host) should have:
/// key -> value.
///
/// ```swift
/// let desired: SysctlDesiredState = [
///     "net.ipv4.ip_forward": 1,
///     "net/ipv4/conf/all/rp_filter": 2,
///     "net.ipv4.conf.eth0/100.forwarding": 1,   // interface "eth0.100"
///     "net.ipv4.ip_local_port_range": "32768 60999",
/// ]
/// ```
///
/// Keys are kept as written (dotted or slashed, see ``SysctlKey``) so that
/// errors can name them; they are parsed and checked at the start of every
/// pass, before anything is written. Encodes as a flat JSON/YAML map.
public struct SysctlDesiredState: Sendable, Hashable, Codable, ExpressibleByDictionaryLiteral {
    /// Key as written -> value.
    public var values: [String: SysctlValue]

    /// An empty desired state.
    public init() {
        values = [:]
    }

    /// A desired state from a map.
    public init(_ values: [String: SysctlValue]) {
        self.values = values
    }

    /// A desired state from a dictionary literal. A key written twice keeps
    /// its last value.
    public init(dictionaryLiteral elements: (String, SysctlValue)...) {
        values = Dictionary(elements, uniquingKeysWith: { _, last in last })
    }

    /// Wants nothing: reconciling to it releases every owned key.
    public static let empty = SysctlDesiredState([:])

    /// The value for a key as written.
    public subscript(key: String) -> SysctlValue? {
        get { values[key] }
        set { values[key] = newValue }
    }

    /// True when no key is desired.
    public var isEmpty: Bool { values.isEmpty }

    /// Decodes a flat map.
    public init(from decoder: any Decoder) throws {
        values = try decoder.singleValueContainer().decode([String: SysctlValue].self)
    }

    /// Encodes a flat map.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values)
    }
}
