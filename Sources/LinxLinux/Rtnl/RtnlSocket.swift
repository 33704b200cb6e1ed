import CNetlink
import Glibc
import LinxReconcile
import SystemPackage

/// An rtnetlink request socket opened through libnl, bound to the namespace
/// of the thread that created it, and used only on that thread.
///
/// Options set on the fd (libnl has no helpers for them):
/// - NETLINK_GET_STRICT_CHK, so the kernel filters route dumps by table and
///   protocol instead of sending everything;
/// - NETLINK_EXT_ACK, so refusals carry the kernel's message;
/// - NETLINK_CAP_ACK, so an error ack does not echo the whole request.
/// Receiving is done here rather than with `nl_recvmsgs`: acks are matched by
/// sequence number for pipelining, and the errno in each NLMSG_ERROR is kept
/// as the kernel sent it (libnl folds ENOBUFS into ENOMEM and ESRCH into
/// "object not found").
final class RtnlSocket {
    let handle: OpaquePointer
    let fd: Int32
    /// How many requests may wait for their ack at once, sized from the
    /// receive buffer so queued acks can never overflow it (a dropped ack
    /// would leave a request's outcome unknown).
    let window: Int
    private var sequence: UInt32

    init(receiveBuffer: Int) throws(KernelError) {
        guard let handle = nl_socket_alloc() else { throw KernelError(.noMemory, "nl_socket_alloc failed") }
        let rc = nl_connect(handle, NETLINK_ROUTE)
        if rc < 0 {
            let code = linx_errno()
            nl_socket_free(handle)
            throw KernelError(Errno(rawValue: code == 0 ? EPROTONOSUPPORT : code), "cannot open an rtnetlink socket: \(String(cString: nl_geterror(rc)))")
        }
        self.handle = handle
        fd = nl_socket_get_fd(handle)
        _ = linx_netlink_setopt(fd, NETLINK_GET_STRICT_CHK, 1)
        _ = linx_netlink_setopt(fd, NETLINK_EXT_ACK, 1)
        _ = linx_netlink_setopt(fd, NETLINK_CAP_ACK, 1)
        let granted = Self.setReceiveBuffer(fd: fd, bytes: receiveBuffer)
        // An ack costs about 1 KiB of buffer (skb overhead); keep half spare.
        window = min(2048, max(16, granted / 2048))
        sequence = UInt32(truncatingIfNeeded: UInt(bitPattern: time(nil)))
    }

    deinit { nl_socket_free(handle) }

    /// Sets SO_RCVBUF (forcing past rmem_max when privileged) and returns the
    /// size the kernel granted.
    static func setReceiveBuffer(fd: Int32, bytes: Int) -> Int {
        var value = Int32(clamping: bytes)
        let size = socklen_t(MemoryLayout<Int32>.size)
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &value, size) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, size)
        }
        var granted: Int32 = 0
        var length = size
        _ = getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &length)
        return Int(granted)
    }

    /// Reserves `count` consecutive sequence numbers and returns the first.
    func reserveSequences(_ count: Int) -> UInt32 {
        let first = sequence &+ 1
        sequence = sequence &+ UInt32(truncatingIfNeeded: max(count, 1))
        return first
    }

    /// Sends one buffer holding one or more complete messages.
    func send(_ buffer: [UInt8]) throws(KernelError) {
        var offset = 0
        while offset < buffer.count {
            let sent = buffer.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, 0) }
            if sent < 0 {
                let code = linx_errno()
                if code == EINTR { continue }
                throw KernelError(Errno(rawValue: code), "netlink send failed")
            }
            // Netlink takes a datagram whole or not at all.
            offset += sent
        }
    }

    /// Receives at least one datagram (up to `slots`), calling `body` with
    /// each message in them.
    func receive(into arena: ReceiveArena, _ body: (UnsafeMutablePointer<nlmsghdr>) throws(KernelError) -> Void) throws(KernelError) {
        var count: Int32 = -1
        while count < 0 {
            count = arena.receive(fd: fd)
            if count < 0 {
                let code = linx_errno()
                if code == EINTR { continue }
                throw KernelError(Errno(rawValue: code), code == ENOBUFS ? "netlink receive buffer overrun" : "netlink receive failed")
            }
        }
        for slot in 0..<Int(count) {
            if arena.truncated[slot] != 0 { throw KernelError(.noBufferSpace, "netlink message larger than the receive buffer") }
            var remaining = Int32(arena.lengths[slot])
            var message: UnsafeMutablePointer<nlmsghdr>? = arena.slot(slot).assumingMemoryBound(to: nlmsghdr.self)
            while let current = message, nlmsg_ok(current, remaining) != 0 {
                try body(current)
                message = nlmsg_next(current, &remaining)
            }
        }
    }
}

/// Reusable receive buffers for `recvmmsg`: `slots` datagrams of `slotSize` bytes.
final class ReceiveArena {
    let slotSize: Int
    let slots: Int
    let storage: UnsafeMutableRawPointer
    var lengths: [UInt32]
    var truncated: [UInt8]

    init(slots: Int, slotSize: Int) {
        self.slots = slots
        self.slotSize = slotSize
        storage = .allocate(byteCount: slots * slotSize, alignment: 8)
        lengths = Array(repeating: 0, count: slots)
        truncated = Array(repeating: 0, count: slots)
    }

    deinit { storage.deallocate() }

    func slot(_ index: Int) -> UnsafeMutableRawPointer { storage + index * slotSize }

    func receive(fd: Int32) -> Int32 {
        lengths.withUnsafeMutableBufferPointer { lengths in
            truncated.withUnsafeMutableBufferPointer { truncated in
                linx_recv_batch(fd, storage.assumingMemoryBound(to: UInt8.self), UInt32(slotSize), UInt32(slots),
                                lengths.baseAddress, truncated.baseAddress, 0)
            }
        }
    }
}
