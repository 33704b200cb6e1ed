/// Which cgroup hierarchy a directory belongs to.
public enum CgroupHierarchy: Sendable, Hashable, Codable {
    /// The unified hierarchy (cgroup2 filesystem).
    case v2
    /// A v1 controller hierarchy (`pids`, `memory`, `cpu` ...).
    case v1(controllers: [String])
}

/// The cgroup half of a kernel: interface files in cgroup directories.
///
/// A cgroup is named by its absolute directory path. Values are exchanged as
/// the kernel prints them, trailing newline removed. ENOENT for a missing
/// cgroup or file, EINVAL for a value the kernel refuses.
public protocol CgroupBackend: Sendable {
    /// Checks that `cgroup` is a directory on a cgroup filesystem and says which.
    /// Throws ENOENT when missing, ENOTDIR when it is not a cgroup directory.
    func hierarchy(of cgroup: String) async throws(KernelError) -> CgroupHierarchy
    /// Reads an interface file.
    func read(_ file: String, in cgroup: String) async throws(KernelError) -> String
    /// Writes an interface file.
    func write(_ file: String, value: String, in cgroup: String) async throws(KernelError)
    /// Lists the interface files of the cgroup, sorted.
    func files(in cgroup: String) async throws(KernelError) -> [String]
}
