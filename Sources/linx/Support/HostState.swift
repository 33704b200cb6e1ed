import LinxReconcile

/// What `linx apply` owns in one scope, kept in the state file between runs.
struct HostState: Codable, Sendable, Equatable {
    var rtnl: RtnlLastApplied = .empty
    var sysctl: SysctlLastApplied = .empty
    var cgroups: [String: CgroupLastApplied] = [:]
}
