/// The desired content of one nf_tables table: its chains (with their rules)
/// and its sets and maps (with their elements).
///
/// Rules are written in nft syntax, as `nft list` prints them. Before a
/// pass compares them with the kernel, the backend rewrites them into the
/// form the kernel prints (``NftablesBackend/canonicalize(_:as:in:)``),
/// so a rule written `tcp dport {80,443} accept` never differs from the
/// `tcp dport { 80, 443 } accept` that `nft list` shows.
public struct NftTable: Sendable, Hashable, Codable {
    /// The chains, each with its rules in order.
    public var chains: [NftChain]
    /// The named sets and maps.
    public var sets: [NftSet]

    /// A table with `chains` and `sets`.
    public init(chains: [NftChain] = [], sets: [NftSet] = []) {
        self.chains = chains
        self.sets = sets
    }
}

/// A chain: a base chain (attached to a hook) or a regular chain (reached
/// by `jump`/`goto`), and its rules in order.
public struct NftChain: Sendable, Hashable, Codable {
    /// The chain's name.
    public var name: String
    /// The hook attachment; nil for a regular chain.
    public var base: NftBaseChain?
    /// The rules in evaluation order, in nft syntax.
    public var rules: [String]

    /// A chain named `name`.
    public init(_ name: String, base: NftBaseChain? = nil, rules: [String] = []) {
        self.name = name
        self.base = base
        self.rules = rules
    }
}

/// How a base chain hangs off the netfilter hooks.
public struct NftBaseChain: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `filter`, `nat` or `route`.
    public var type: NftChainType
    /// The hook: `prerouting`, `input`, `forward`, `output`, `postrouting`, `ingress`, `egress`.
    public var hook: NftHook
    /// The priority as a number (`filter` is 0, `srcnat` 100, `dstnat` -100).
    public var priority: Int32
    /// What happens to a packet no rule decided on.
    public var policy: NftPolicy

    /// A base chain; the policy defaults to accept, as in the kernel.
    public init(type: NftChainType, hook: NftHook, priority: Int32 = 0, policy: NftPolicy = .accept) {
        self.type = type
        self.hook = hook
        self.priority = priority
        self.policy = policy
    }

    /// `type filter hook input priority 0; policy accept;`
    public var description: String {
        // Appended piece by piece: interpolating the enums goes through
        // their descriptions one protocol call at a time, and snapshots
        // print every base chain of every table they read.
        var text = "type "
        text.reserveCapacity(48)
        text += type.rawValue
        text += " hook "
        text += hook.rawValue
        text += " priority "
        text += String(priority)
        text += "; policy "
        text += policy.rawValue
        text += ";"
        return text
    }
}

/// A base chain's type.
public enum NftChainType: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case filter, nat, route
    public var description: String { rawValue }
}

/// A netfilter hook.
public enum NftHook: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case prerouting, input, forward, output, postrouting, ingress, egress
    public var description: String { rawValue }
}

/// A base chain's default verdict.
public enum NftPolicy: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case accept, drop
    public var description: String { rawValue }
}

/// A named set, or a map when ``dataType`` is set.
public struct NftSet: Sendable, Hashable, Codable {
    /// The set's name (rules refer to it as `@name`).
    public var name: String
    /// The key type, e.g. `ipv4_addr`, `inet_service`, `ipv4_addr . inet_service`.
    public var type: String
    /// For a map, the data type (`verdict`, `ipv4_addr` ...); nil for a set.
    public var dataType: String?
    /// Set flags such as `interval`, `constant`, `timeout`, sorted.
    public var flags: [String]
    /// The elements in nft syntax (`10.0.0.0/8`, for a map `22 : accept`).
    public var elements: [String]

    /// A set (or map, with `dataType`) named `name`.
    public init(_ name: String, type: String, dataType: String? = nil, flags: [String] = [], elements: [String] = []) {
        self.name = name
        self.type = type
        self.dataType = dataType
        self.flags = flags.sorted()
        self.elements = elements
    }

    /// The set without its elements: what must match for the elements to be
    /// updated in place rather than the set being re-created.
    public var declaration: NftSet { NftSet(name, type: type, dataType: dataType, flags: flags) }

    /// `type ipv4_addr; flags interval;` as nft declares it.
    public var declarationText: String {
        var text = "type \(type)"
        if let dataType { text += " : \(dataType)" }
        text += ";"
        if !flags.isEmpty { text += " flags \(flags.joined(separator: ","));" }
        return text
    }

    /// `set` or `map`.
    public var kind: String { dataType == nil ? "set" : "map" }
}
