import LinxReconcile

/// What `linx apply` owns in one scope, kept in the state file between runs.
struct HostState: Codable, Sendable, Equatable {
    /// The scope this ownership belongs to (see ``StateScope``); nil in a
    /// file written before scopes were recorded.
    var scope: StateScope?
    var rtnl: RtnlLastApplied = .empty
    var sysctl: SysctlLastApplied = .empty
    var cgroups: [String: CgroupLastApplied] = [:]
    /// Owned nf_tables tables by table; nil in a file written before linx
    /// had an nftables section (it owns none).
    var nftables: [String: NftLastApplied]?
}
