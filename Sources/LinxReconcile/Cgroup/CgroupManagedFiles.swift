/// Which cgroup interface files a reconciler may manage: limits, and
/// nothing that moves, freezes, kills or reshapes processes.
///
/// A cgroup directory also holds files whose writes are actions, not
/// settings: `cgroup.procs` moves a process (writing 1 moves init),
/// `cgroup.freeze` freezes every task, `cgroup.kill` kills them,
/// `cgroup.subtree_control` and `cgroup.type` reshape the tree,
/// `memory.reclaim` reclaims, `*.pressure` arms triggers, v1's
/// `release_agent` runs a program as root. "Releasing" such a file has no
/// meaning (there is no value to go back to), so they are refused outright,
/// by name, before anything is read.
///
/// The rule is an allow-list: the limit, weight and protection files of
/// the cgroup v2 controllers and their v1 counterparts, plus the core's two
/// limits `cgroup.max.depth` and `cgroup.max.descendants`. Every other
/// `cgroup.*` file is refused as process control or state; any other file
/// is refused as not a limit Linx manages.
public enum CgroupManagedFiles {
    /// The files a reconciler may manage, by exact name.
    public static let limits: Set<String> = [
        // core
        "cgroup.max.depth", "cgroup.max.descendants",
        // cpu (v2, then v1)
        "cpu.max", "cpu.max.burst", "cpu.weight", "cpu.weight.nice", "cpu.idle", "cpu.uclamp.min", "cpu.uclamp.max",
        "cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.cfs_burst_us", "cpu.rt_runtime_us", "cpu.rt_period_us",
        // cpuset
        "cpuset.cpus", "cpuset.mems", "cpuset.cpus.exclusive", "cpuset.cpu_exclusive", "cpuset.mem_exclusive",
        // memory (v2, then v1)
        "memory.max", "memory.high", "memory.low", "memory.min", "memory.swap.max", "memory.swap.high",
        "memory.zswap.max", "memory.zswap.writeback", "memory.oom.group",
        "memory.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.memsw.limit_in_bytes",
        "memory.kmem.limit_in_bytes", "memory.kmem.tcp.limit_in_bytes", "memory.swappiness",
        // io / blkio
        "io.max", "io.weight", "io.bfq.weight", "io.latency",
        "blkio.weight", "blkio.weight_device", "blkio.bfq.weight", "blkio.bfq.weight_device",
        "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
        "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device",
        // the rest
        "pids.max", "rdma.max", "misc.max", "net_cls.classid", "net_prio.ifpriomap",
    ]

    /// Why `file` may not be managed, or nil when it may.
    public static func refusal(for file: String) -> String? {
        if limits.contains(file) || isHugetlbLimit(file) { return nil }
        if file.hasPrefix("cgroup.") || !file.contains(".") {
            return "a process-control or state file of the cgroup, not a limit: linx manages only limit files "
                + "(of the core, only cgroup.max.depth and cgroup.max.descendants)"
        }
        return "not a limit file linx manages (limits, weights and protections of the cpu, cpuset, memory, io, "
            + "pids, hugetlb, rdma and misc controllers)"
    }

    /// hugetlb.<size>.max, hugetlb.<size>.rsvd.max and their v1 forms
    /// (`limit_in_bytes`), for page sizes such as 2MB or 1GB.
    private static func isHugetlbLimit(_ file: String) -> Bool {
        let parts = file.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0] == "hugetlb", let size = parts[1].first, size.isNumber,
            parts[1].hasSuffix("B")
        else { return false }
        let rest = parts.dropFirst(2).joined(separator: ".")
        return ["max", "rsvd.max", "limit_in_bytes", "rsvd.limit_in_bytes"].contains(rest)
    }
}
