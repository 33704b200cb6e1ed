import SystemPackage

/// A kernel refusal: the errno the kernel answered with, plus the extended
/// acknowledgement text (`NETLINK_EXT_ACK`) when the kernel gave one.
///
/// Both backends throw this, so a reconciler (and its report) never needs to
/// know whether it ran on the simulated kernel or on the real one.
public struct KernelError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kernel's errno, never a library-folded code.
    public var errno: Errno
    /// The kernel's extended ack message, e.g. "Nexthop has invalid gateway".
    public var message: String?

    /// A refusal with `errno` and, when the kernel gave one, its ext-ack `message`.
    public init(_ errno: Errno, _ message: String? = nil) {
        self.errno = errno
        self.message = message
    }

    /// A refusal with the raw errno `code` (`ENOSPC`, 28), for a Source
    /// that gets a C errno and does not import swift-system.
    public init(errno code: Int32, _ message: String? = nil) {
        self.init(Errno(rawValue: code), message)
    }

    /// The raw errno value.
    public var code: Int32 { errno.rawValue }

    public var description: String {
        let name = errno.symbolicName
        if let message, !message.isEmpty { return "\(name) (\(message))" }
        return "\(name) (\(errno.description))"
    }
}

extension Errno {
    /// The C macro name (`EEXIST`), which is what operators grep for.
    public var symbolicName: String {
        switch self {
        case .fileExists: "EEXIST"
        case .noSuchFileOrDirectory: "ENOENT"
        case .noSuchProcess: "ESRCH"
        case .noSuchDevice: "ENODEV"
        case .invalidArgument: "EINVAL"
        case .networkUnreachable: "ENETUNREACH"
        case .addressNotAvailable: "EADDRNOTAVAIL"
        case .noBufferSpace: "ENOBUFS"
        case .permissionDenied: "EACCES"
        case .notPermitted: "EPERM"
        case .resourceBusy: "EBUSY"
        case .interrupted: "EINTR"
        case .resourceTemporarilyUnavailable: "EAGAIN"
        case .ioError: "EIO"
        case .notDirectory: "ENOTDIR"
        case .outOfRange: "ERANGE"
        case .noMemory: "ENOMEM"
        case .notSupported: "EOPNOTSUPP"
        case .readOnlyFileSystem: "EROFS"
        case .noSpace: "ENOSPC"
        case .protocolNotSupported: "EPROTONOSUPPORT"
        case .addressFamilyNotSupported: "EAFNOSUPPORT"
        case .restart: "ERESTART"
        default: "errno \(rawValue)"
        }
    }
}

extension Errno {
    /// `ENODEV`. swift-system spells it `operationNotSupportedByDevice`, which
    /// reads wrongly for rtnetlink, where it means "no such interface".
    public static var noSuchDevice: Errno { .operationNotSupportedByDevice }
}
