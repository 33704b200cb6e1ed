import Glibc
import LinxLinux
import LinxReconcile

/// What in this process holds which network namespace: for tests that
/// check a namespace was let go (no socket, no thread left in it), and for
/// observing how the kernel keeps a deleted namespace alive.
public enum NamespaceHolders {
    /// `SIOCGSKNS`: an fd for the network namespace a socket belongs to.
    private static let socketNamespaceRequest: UInt = 0x894C

    /// The namespaces this process's sockets belong to, with how many sockets each.
    public static func sockets() -> [NamespaceIdentity: Int] {
        var found: [NamespaceIdentity: Int] = [:]
        for fd in entries(of: "/proc/self/fd").compactMap(Int32.init) {
            var info = stat()
            guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFSOCK else { continue }
            let namespace = ioctl(fd, socketNamespaceRequest)
            guard namespace >= 0 else { continue }
            defer { close(namespace) }
            var nsInfo = stat()
            guard fstat(namespace, &nsInfo) == 0 else { continue }
            found[NamespaceIdentity(nsInfo), default: 0] += 1
        }
        return found
    }

    /// The namespaces this process's threads are in, with how many threads each.
    public static func threads() -> [NamespaceIdentity: Int] {
        var found: [NamespaceIdentity: Int] = [:]
        for task in entries(of: "/proc/self/task") {
            var info = stat()
            guard stat("/proc/self/task/\(task)/ns/net", &info) == 0 else { continue }
            found[NamespaceIdentity(info), default: 0] += 1
        }
        return found
    }

    /// The namespace a namespace file (such as /run/netns/NAME) names now.
    public static func identity(of path: String) -> NamespaceIdentity? {
        NamespaceIdentity.named(by: path)
    }

    private static func entries(of directory: String) -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
