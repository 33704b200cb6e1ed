import Glibc
import LinxReconcile
import SystemPackage

/// sysctl through /proc/sys. These functions must run on the namespace's
/// thread: /proc/sys/net resolves against the netns of the thread that opens
/// the file. Keys outside `net.` are host-global whatever the thread; guarding
/// against writing them from another namespace is the reconciler's job.
enum ProcSysctl {
    static let root = "/proc/sys/"

    static func read(_ key: SysctlKey) throws(KernelError) -> String {
        try ProcFiles.read(root + key.path)
    }

    static func write(_ key: SysctlKey, _ value: String) throws(KernelError) {
        try ProcFiles.write(root + key.path, value)
    }

    /// Every key at or below `prefix`, sorted.
    static func keys(under prefix: SysctlKey) throws(KernelError) -> [SysctlKey] {
        var keys: [SysctlKey] = []
        var directories = [prefix.components]
        var info = stat()
        guard stat(root + prefix.path, &info) == 0 else { throw ProcFiles.error("no sysctl \(prefix)") }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return [prefix] }
        while let components = directories.popLast() {
            for entry in try ProcFiles.list(root + components.joined(separator: "/")) {
                if entry.isDirectory {
                    directories.append(components + [entry.name])
                } else {
                    keys.append(SysctlKey(components: components + [entry.name]))
                }
            }
        }
        return keys.sorted()
    }
}
