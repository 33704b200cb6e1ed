import Glibc
import LinxReconcile
import SystemPackage

/// Who a network namespace is, for records that must not be applied to
/// another one (such as the ownership `linx` keeps in a state file).
///
/// A namespace's name or path is not its identity: `ip netns del web-1 &&
/// ip netns add web-1` makes a new namespace under the old name, and the
/// nsfs inode number of a deleted namespace is handed to the next one
/// created. The kernel's namespace cookie (`SO_NETNS_COOKIE`, Linux 5.14+)
/// comes from a counter that is never reused while the machine runs, so
/// with the boot it was read in, it names one namespace for good.
public struct NetnsIdentity: Sendable, Hashable, Codable {
    /// `/proc/sys/kernel/random/boot_id` when the cookie was read.
    public var boot: String
    /// The namespace's cookie in that boot.
    public var cookie: UInt64
    /// True for the initial network namespace (the host's), which is the
    /// same namespace across reboots even though its cookie and boot change.
    public var isInitial: Bool

    /// An identity as recorded.
    public init(boot: String, cookie: UInt64, isInitial: Bool) {
        self.boot = boot
        self.cookie = cookie
        self.isInitial = isInitial
    }
}

/// The nsfs inode of the initial network namespace (PROC_NET_INIT_INO in the
/// kernel, fixed since Linux 3.8; read here as `readlink /proc/1/ns/net`).
private let initialNamespaceInode: UInt64 = 0xEFFF_FFF9

/// SO_NETNS_COOKIE from <asm-generic/socket.h>, which Glibc does not export.
private let soNetnsCookie: Int32 = 71

extension LinuxKernel {
    /// The identity of the network namespace `scope` names, read from a
    /// socket made inside it on the scope's namespace thread.
    public func identity(of scope: NetnsScope) async throws(KernelError) -> NetnsIdentity {
        let boot = try Self.bootID()
        return try await perform(in: scope) { context throws(KernelError) in
            if let entryError = context.entryError { throw entryError }
            let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw KernelError(Errno(rawValue: errno), "cannot open a socket in the \(scope)") }
            defer { close(fd) }
            var cookie: UInt64 = 0
            var length = socklen_t(MemoryLayout<UInt64>.size)
            guard getsockopt(fd, SOL_SOCKET, soNetnsCookie, &cookie, &length) == 0 else {
                throw KernelError(Errno(rawValue: errno), "cannot read the namespace cookie of the \(scope)")
            }
            // The thread's own namespace, which is the scope's.
            var info = stat()
            let inode: UInt64? = stat("/proc/thread-self/ns/net", &info) == 0 ? UInt64(info.st_ino) : nil
            return NetnsIdentity(boot: boot, cookie: cookie, isInitial: inode == initialNamespaceInode)
        }
    }

    private static func bootID() throws(KernelError) -> String {
        let fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw KernelError(Errno(rawValue: errno), "cannot read the boot id") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { throw KernelError(Errno(rawValue: errno), "cannot read the boot id") }
        return String(decoding: buffer[0..<count], as: UTF8.self).trimmingWhitespace
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        String(self.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
