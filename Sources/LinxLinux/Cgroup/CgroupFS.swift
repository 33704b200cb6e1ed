import CNetlink
import Glibc
import LinxReconcile
import SystemPackage

/// cgroup limits through cgroupfs: any cgroup directory, v2 or v1.
///
/// The hierarchy is told by the filesystem's magic number (statfs): cgroup2
/// is CGROUP2_SUPER_MAGIC, a v1 controller hierarchy CGROUP_SUPER_MAGIC; the
/// controllers of a v1 hierarchy come from its mount options.
enum CgroupFS {
    static func hierarchy(of cgroup: String) throws(KernelError) -> CgroupHierarchy {
        var info = stat()
        guard stat(cgroup, &info) == 0 else { throw ProcFiles.error("no cgroup \(cgroup)") }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw KernelError(.notDirectory, "\(cgroup) is not a directory") }
        let type = linx_fs_type(cgroup)
        guard type != -1 else { throw ProcFiles.error("cannot statfs \(cgroup)") }
        switch type {
        case linx_cgroup2_magic():
            return .v2
        case linx_cgroup1_magic():
            return .v1(controllers: controllers(of: cgroup))
        default:
            throw KernelError(.notDirectory, "\(cgroup) is not on a cgroup filesystem")
        }
    }

    static func read(_ file: String, in cgroup: String) throws(KernelError) -> String {
        try ProcFiles.read(try path(file, in: cgroup))
    }

    static func write(_ file: String, value: String, in cgroup: String) throws(KernelError) {
        try ProcFiles.write(try path(file, in: cgroup), value)
    }

    static func files(in cgroup: String) throws(KernelError) -> [String] {
        try ProcFiles.list(cgroup).filter { !$0.isDirectory }.map(\.name).sorted()
    }

    /// An interface file is a plain name inside the cgroup directory.
    static func path(_ file: String, in cgroup: String) throws(KernelError) -> String {
        guard !file.isEmpty, !file.contains("/"), file != ".", file != ".." else {
            throw KernelError(.invalidArgument, "\"\(file)\" is not a cgroup interface file name")
        }
        return cgroup.hasSuffix("/") ? cgroup + file : cgroup + "/" + file
    }

    /// Mount options that are not controller names.
    private static let nonControllers: Set<String> = [
        "rw", "ro", "xattr", "noprefix", "clone_children", "cpuset_v2_mode", "nosuid", "nodev", "noexec", "relatime",
    ]

    /// The controllers of the v1 cgroup mount holding `cgroup` (longest
    /// mount point that prefixes its real path), from /proc/self/mountinfo.
    static func controllers(of cgroup: String) -> [String] {
        guard let resolved = realpath(cgroup, nil) else { return [] }
        let path = String(cString: resolved)
        free(resolved)
        guard let mountinfo = try? ProcFiles.read("/proc/self/mountinfo") else { return [] }
        var best: (length: Int, controllers: [String])?
        for line in mountinfo.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2 else { continue }
            let fields = halves[0].split(separator: " ")
            let tail = halves[1].split(separator: " ")
            guard fields.count >= 5, tail.count >= 3, tail[0] == "cgroup" else { continue }
            let mountPoint = String(fields[4])
            guard path == mountPoint || path.hasPrefix(mountPoint + "/") else { continue }
            let controllers = tail[2].split(separator: ",").map(String.init)
                .filter { !nonControllers.contains($0) && !$0.contains("=") }
            if best == nil || mountPoint.count > best!.length { best = (mountPoint.count, controllers.sorted()) }
        }
        return best?.controllers ?? []
    }
}
