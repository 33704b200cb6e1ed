/// An nf_tables address family, as `nft` spells it.
public enum NftFamily: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// IPv4 only (NFPROTO_IPV4).
    case ip
    /// IPv6 only (NFPROTO_IPV6).
    case ip6
    /// IPv4 and IPv6 in one table (NFPROTO_INET).
    case inet
    /// ARP (NFPROTO_ARP).
    case arp
    /// Bridged frames (NFPROTO_BRIDGE).
    case bridge
    /// Per-device ingress/egress (NFPROTO_NETDEV).
    case netdev

    /// The NFPROTO_* value netlink carries in `nfgen_family`.
    public var nfproto: UInt8 {
        switch self {
        case .ip: 2
        case .ip6: 10
        case .inet: 1
        case .arp: 3
        case .bridge: 7
        case .netdev: 5
        }
    }

    public var description: String { rawValue }
}

/// One nf_tables table: its family and name. Tables are the unit of
/// ownership: a pass touches only the table its scope names.
public struct NftTableRef: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// The table's family.
    public var family: NftFamily
    /// The table's name.
    public var name: String

    /// The table `name` in `family`.
    public init(_ family: NftFamily, _ name: String) {
        self.family = family
        self.name = name
    }

    /// `inet filter`, as nft commands name a table.
    public var description: String { "\(family) \(name)" }

    public static func < (a: NftTableRef, b: NftTableRef) -> Bool {
        (a.family.rawValue, a.name) < (b.family.rawValue, b.name)
    }
}

/// Where an nf_tables pass acts: one table in one network namespace.
public struct NftScope: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The network namespace.
    public var netns: NetnsScope
    /// The table the pass owns; every other table is left alone.
    public var table: NftTableRef

    /// The table `table` in `netns`.
    public init(_ netns: NetnsScope = .current, table: NftTableRef) {
        self.netns = netns
        self.table = table
    }

    public var description: String { "table \(table) in \(netns)" }
}
