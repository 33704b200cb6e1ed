/// The network namespace a backend call acts in.
///
/// Mirrors how the real kernel is addressed: the caller's own namespace, a
/// process's (`/proc/PID/ns/net`), or a namespace file (`/run/netns/NAME`).
///
/// A scope is followed by what it names. A namespace file's name is
/// followed when the namespace is deleted and another made under it (a
/// loop moves its monitor there). A process's namespace ends with the
/// process: a loop's monitor is lost and its passes fail, and a reused pid
/// (another process) is never followed. `.path("/proc/PID/ns/net")` names a
/// process too, so it is the same scope as `.pid(PID)`: equal to it, and
/// ending with the process the same way (following the path would carry a
/// loop into whatever process gets the pid next, and release its ownership
/// there).
public enum NetnsScope: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The namespace of the calling process.
    case current
    /// The namespace of process `pid`.
    case pid(Int32)
    /// A namespace file, such as a bind mount under /run/netns.
    case path(String)

    /// A namespace created by `ip netns add NAME`.
    public static func named(_ name: String) -> NetnsScope { .path("/run/netns/\(name)") }

    /// The process whose namespace this scope names: `PID` for `.pid(PID)`
    /// and for `.path("/proc/PID/ns/net")`; nil for the current namespace
    /// and other files.
    public var process: Int32? {
        switch self {
        case .current: nil
        case .pid(let pid): pid
        case .path(let path): Self.process(inProcfsPath: path)
        }
    }

    /// `PID` of `/proc/PID/ns/net` (digits without a leading zero, as procfs
    /// names processes); nil for any other path.
    private static func process(inProcfsPath path: String) -> Int32? {
        let prefix = "/proc/".utf8, suffix = "/ns/net".utf8
        let bytes = path.utf8
        guard bytes.count > prefix.count + suffix.count, bytes.starts(with: prefix),
            bytes.reversed().starts(with: suffix.reversed())
        else { return nil }
        let digits = bytes.dropFirst(prefix.count).dropLast(suffix.count)
        guard digits.count <= 10, digits.first != UInt8(ascii: "0"),
            digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return Int32(String(decoding: digits, as: UTF8.self))
    }

    /// Equal when both name the same namespace by the same rule: `.pid(PID)`
    /// and `.path("/proc/PID/ns/net")` are one scope.
    public static func == (lhs: NetnsScope, rhs: NetnsScope) -> Bool {
        switch (lhs, rhs) {
        case (.current, .current): true
        case (.path(let a), .path(let b)) where a == b: true
        default: lhs.process != nil && lhs.process == rhs.process
        }
    }

    /// Hashes what `==` compares.
    public func hash(into hasher: inout Hasher) {
        if let process {
            hasher.combine(1 as UInt8)
            hasher.combine(process)
        } else if case .path(let path) = self {
            hasher.combine(2 as UInt8)
            hasher.combine(path)
        } else {
            hasher.combine(0 as UInt8)
        }
    }

    /// How errors and logs name the scope.
    public var description: String {
        switch self {
        case .current: "current netns"
        case .pid(let pid): "netns of pid \(pid)"
        case .path(let path): "netns \(path)"
        }
    }
}
