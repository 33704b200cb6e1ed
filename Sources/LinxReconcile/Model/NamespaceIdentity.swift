/// Which network namespace a scope names at one moment: the namespace's
/// nsfs inode (with its device), the number `ip netns` and `lsns` show as
/// `net:[4026532281]`.
///
/// A name (`/run/netns/NAME`) can be deleted and re-created; the namespace
/// behind it is then a new one with a new inode. Comparing identities is how
/// a caller notices, since anything opened in the old namespace (a monitor
/// socket, a thread that entered it) stays there and keeps it alive.
public struct NamespaceIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The nsfs device of the namespace file.
    public var device: UInt64
    /// The namespace's inode number.
    public var inode: UInt64

    /// An identity from a namespace file's `st_dev` and `st_ino`.
    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    /// `net:[INODE]`, as `/proc/PID/ns/net` links read.
    public var description: String { "net:[\(inode)]" }
}
