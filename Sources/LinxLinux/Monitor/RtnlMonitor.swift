import CNetlink
import Glibc
import LinxReconcile
import SystemPackage
import Synchronization

/// An `ip monitor`: a libnl socket subscribed to the link, IPv4/IPv6 address
/// and IPv4/IPv6 route groups, read on demand.
///
/// The socket is opened on the namespace's thread (so it belongs to that
/// namespace) and is then read from whichever task iterates the events; it
/// is non-blocking and waits for readability through ``ReadinessPoller``.
/// Reading on demand means the kernel's receive buffer is the only buffer:
/// a consumer that falls behind makes the kernel drop events, recv answers
/// ENOBUFS, and the consumer gets ``RtnlEvent/overflow`` (resync) rather than
/// a silently growing queue. Multicast messages carry sequence number 0, so
/// libnl's sequence check is disabled.
final class RtnlMonitor: Sendable {
    static let groups: [UInt32] = [
        RTNLGRP_LINK.rawValue, RTNLGRP_IPV4_IFADDR.rawValue, RTNLGRP_IPV6_IFADDR.rawValue,
        RTNLGRP_IPV4_ROUTE.rawValue, RTNLGRP_IPV6_ROUTE.rawValue,
    ]

    private struct State: ~Copyable {
        /// nil once closed.
        var handle: OpaquePointer?
        var pending: [RtnlEvent] = []
        var pendingStart = 0
    }

    private let state: Mutex<State>
    private let fd: Int32
    /// The receive buffer; only used while holding `state`'s lock.
    private nonisolated(unsafe) let buffer = UnsafeMutableRawPointer.allocate(byteCount: RtnlMonitor.bufferSize, alignment: 8)
    static let bufferSize = 64 * 1024

    /// Opens and subscribes. Must run inside the target namespace.
    init(receiveBuffer: Int) throws(KernelError) {
        guard let handle = nl_socket_alloc() else { throw KernelError(.noMemory, "nl_socket_alloc failed") }
        nl_socket_disable_seq_check(handle)
        let rc = nl_connect(handle, NETLINK_ROUTE)
        if rc < 0 {
            let code = linx_errno()
            nl_socket_free(handle)
            throw KernelError(Errno(rawValue: code == 0 ? EPROTONOSUPPORT : code), "cannot open a monitor socket: \(String(cString: nl_geterror(rc)))")
        }
        for group in Self.groups {
            let joined = nl_socket_add_membership(handle, Int32(group))
            if joined < 0 {
                nl_socket_free(handle)
                throw KernelError(.invalidArgument, "cannot join rtnetlink group \(group): \(String(cString: nl_geterror(joined)))")
            }
        }
        _ = nl_socket_set_nonblocking(handle)
        fd = nl_socket_get_fd(handle)
        _ = RtnlSocket.setReceiveBuffer(fd: fd, bytes: receiveBuffer)
        state = Mutex(State(handle: handle))
    }

    deinit {
        close()
        buffer.deallocate()
    }

    /// Closes the socket; later reads return nil.
    func close() {
        state.withLock { state in
            if let handle = state.handle { nl_socket_free(handle) }
            state.handle = nil
            state.pending = []
        }
    }

    /// The next event, nil once closed or when the waiting task is cancelled
    /// (which also closes the monitor).
    func next() async throws -> RtnlEvent? {
        while true {
            enum Step { case event(RtnlEvent), closed, wait, again }
            let step: Step = try state.withLock { state throws(KernelError) -> Step in
                guard let handle = state.handle else { return .closed }
                if state.pendingStart < state.pending.count {
                    defer { state.pendingStart += 1 }
                    return .event(state.pending[state.pendingStart])
                }
                state.pending.removeAll(keepingCapacity: true)
                state.pendingStart = 0
                let count = recv(nl_socket_get_fd(handle), buffer, Self.bufferSize, Int32(MSG_DONTWAIT))
                if count < 0 {
                    switch linx_errno() {
                    case EAGAIN, EWOULDBLOCK: return .wait
                    case EINTR: return .again
                    case ENOBUFS: return .event(.overflow)
                    case let code: throw KernelError(Errno(rawValue: code), "monitor receive failed")
                    }
                }
                var remaining = Int32(count)
                var message: UnsafeMutablePointer<nlmsghdr>? = buffer.assumingMemoryBound(to: nlmsghdr.self)
                while let current = message, nlmsg_ok(current, remaining) != 0 {
                    if let event = Self.event(current) { state.pending.append(event) }
                    message = nlmsg_next(current, &remaining)
                }
                return .again
            }
            switch step {
            case .event(let event): return event
            case .closed: return nil
            case .again: continue
            case .wait:
                let readable = Task.isCancelled ? false : await ReadinessPoller.shared.waitReadable(fd)
                if !readable {
                    close()
                    return nil
                }
            }
        }
    }

    static func event(_ message: UnsafeMutablePointer<nlmsghdr>) -> RtnlEvent? {
        switch Int32(message.pointee.nlmsg_type) {
        case Int32(RTM_NEWLINK): RtnlParser.link(message).map { .link($0, .new) }
        case Int32(RTM_DELLINK): RtnlParser.link(message).map { .link($0, .deleted) }
        case Int32(RTM_NEWADDR): RtnlParser.address(message).map { .address($0, .new) }
        case Int32(RTM_DELADDR): RtnlParser.address(message).map { .address($0, .deleted) }
        case Int32(RTM_NEWROUTE): RtnlParser.route(message).map { .route($0, .new) }
        case Int32(RTM_DELROUTE): RtnlParser.route(message).map { .route($0, .deleted) }
        default: nil
        }
    }
}
