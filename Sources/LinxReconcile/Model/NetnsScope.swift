/// The network namespace a backend call acts in.
///
/// Mirrors how the real kernel is addressed: the caller's own namespace, a
/// process's (`/proc/PID/ns/net`), or a namespace file (`/run/netns/NAME`).
public enum NetnsScope: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The namespace of the calling process.
    case current
    /// The namespace of process `pid`.
    case pid(Int32)
    /// A namespace file, such as a bind mount under /run/netns.
    case path(String)

    /// A namespace created by `ip netns add NAME`.
    public static func named(_ name: String) -> NetnsScope { .path("/run/netns/\(name)") }

    public var description: String {
        switch self {
        case .current: "current netns"
        case .pid(let pid): "netns of pid \(pid)"
        case .path(let path): "netns \(path)"
        }
    }
}
