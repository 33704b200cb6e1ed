import LinxReconcile

/// What Linx owns on one host scope across subsystems: the ownership a
/// ``HostReport`` hands back, to thread into the next ``HostReconciler``
/// pass (`linx apply` keeps it in its state file).
public struct HostLastApplied: Sendable, Hashable, Codable {
    /// Owned addresses.
    public var rtnl: RtnlLastApplied
    /// Owned sysctl keys and their original values.
    public var sysctl: SysctlLastApplied
    /// Owned files, by cgroup directory.
    public var cgroups: [String: CgroupLastApplied]
    /// Owned nf_tables tables, by table (`inet linx`).
    public var nftables: [String: NftLastApplied]

    /// Ownership; by default nothing is owned.
    public init(
        rtnl: RtnlLastApplied = .empty, sysctl: SysctlLastApplied = .empty, cgroups: [String: CgroupLastApplied] = [:],
        nftables: [String: NftLastApplied] = [:]
    ) {
        self.rtnl = rtnl
        self.sysctl = sysctl
        self.cgroups = cgroups
        self.nftables = nftables
    }

    /// Owns nothing.
    public static let empty = HostLastApplied()

    private enum CodingKeys: String, CodingKey { case rtnl, sysctl, cgroups, nftables }

    /// Reads a record; one written before a section existed owns nothing of it.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        rtnl = try container.decode(RtnlLastApplied.self, forKey: .rtnl)
        sysctl = try container.decode(SysctlLastApplied.self, forKey: .sysctl)
        cgroups = try container.decode([String: CgroupLastApplied].self, forKey: .cgroups)
        nftables = try container.decodeIfPresent([String: NftLastApplied].self, forKey: .nftables) ?? [:]
    }
}
