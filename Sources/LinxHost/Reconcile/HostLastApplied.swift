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

    /// Ownership; by default nothing is owned.
    public init(rtnl: RtnlLastApplied = .empty, sysctl: SysctlLastApplied = .empty, cgroups: [String: CgroupLastApplied] = [:]) {
        self.rtnl = rtnl
        self.sysctl = sysctl
        self.cgroups = cgroups
    }

    /// Owns nothing.
    public static let empty = HostLastApplied()
}
