import CNetlink
import Glibc
import LinxReconcile
import SystemPackage
import Synchronization

/// The receive side of every netlink monitor (rtnetlink's `ip monitor`,
/// nf_tables' `nft monitor`): a subscribed, non-blocking netlink socket
/// read on demand, one buffer at a time, each buffer turned into events by
/// the monitor's own decoder.
///
/// Reading on demand means the kernel's receive buffer is the only buffer:
/// a consumer that falls behind makes the kernel drop messages, recv
/// answers ENOBUFS, and the consumer gets the monitor's overflow event
/// (resync) rather than a silently growing queue. When nothing is queued
/// the read waits through ``ReadinessPoller``; a cancelled wait closes the
/// socket and ends the events.
final class NetlinkReceiveLoop<Event: Sendable>: Sendable {
    /// Turns one received buffer (whole netlink messages) into events,
    /// appended in order; a buffer may hold none.
    typealias Decoder = @Sendable (UnsafeRawBufferPointer, inout [Event]) -> Void

    private struct State: ~Copyable {
        var open = true
        var pending: [Event] = []
        var pendingStart = 0
    }

    private enum Step { case event(Event), closed, wait, again }

    static var bufferSize: Int { 64 * 1024 }

    private let state = Mutex(State())
    private let fd: Int32
    private let overflow: Event
    private let decode: Decoder
    private let release: @Sendable () -> Void
    private let name: String
    /// The receive buffer; only used while holding `state`'s lock.
    private nonisolated(unsafe) let buffer = UnsafeMutableRawPointer.allocate(byteCount: NetlinkReceiveLoop.bufferSize, alignment: 8)

    /// Reads `fd` (already subscribed and non-blocking). `release` closes
    /// the socket, once; `name` says which monitor a receive error is from.
    init(fd: Int32, name: String, overflow: Event, release: @escaping @Sendable () -> Void, decode: @escaping Decoder) {
        self.fd = fd
        self.name = name
        self.overflow = overflow
        self.release = release
        self.decode = decode
    }

    deinit {
        close()
        buffer.deallocate()
    }

    /// Closes the socket; later reads return nil.
    func close() {
        // Under the lock: a read in progress never sees the fd closed (or
        // its number reused) under it.
        state.withLock { state in
            if state.open { release() }
            state.open = false
            state.pending = []
        }
    }

    /// The next event, nil once closed or when the waiting task is cancelled
    /// (which also closes the socket).
    func next() async throws -> Event? {
        while true {
            let step: Step = try state.withLock { state throws(KernelError) -> Step in
                guard state.open else { return .closed }
                if state.pendingStart < state.pending.count {
                    defer { state.pendingStart += 1 }
                    return .event(state.pending[state.pendingStart])
                }
                state.pending.removeAll(keepingCapacity: true)
                state.pendingStart = 0
                let count = recv(fd, buffer, Self.bufferSize, Int32(MSG_DONTWAIT))
                if count < 0 {
                    switch linx_errno() {
                    case EAGAIN, EWOULDBLOCK: return .wait
                    case EINTR: return .again
                    case ENOBUFS: return .event(overflow)
                    case let code: throw KernelError(Errno(rawValue: code), "\(name) receive failed")
                    }
                }
                decode(UnsafeRawBufferPointer(start: buffer, count: count), &state.pending)
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
}
