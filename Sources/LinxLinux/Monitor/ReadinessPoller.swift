import CNetlink
import Glibc
import LinxReconcile
import SystemPackage
import Synchronization

/// One process-wide thread waiting in epoll for monitor sockets to become
/// readable, so a monitor costs a socket and no thread of its own.
///
/// Each wait is a one-shot registration: the fd is added, and removed again
/// when it fires or when the waiting task is cancelled. Removal happens under
/// the lock only while the waiter is still registered, so a closed and
/// reused fd number is never touched on a stale event.
final class ReadinessPoller: Sendable {
    static let shared = ReadinessPoller()

    private struct Waiter {
        let fd: Int32
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State: ~Copyable {
        var nextToken: UInt64 = 1
        var waiters: [UInt64: Waiter] = [:]
        /// Tokens handed out and not yet resumed.
        var live: Set<UInt64> = []
        /// Live tokens whose task was cancelled before they registered.
        var cancelledEarly: Set<UInt64> = []
    }

    private let epoll: Int32
    private let state = Mutex(State())

    private init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll_create1 failed: errno \(linx_errno())")
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            Unmanaged<ReadinessPoller>.fromOpaque(raw!).takeUnretainedValue().loop()
            return nil
        }, Unmanaged.passUnretained(self).toOpaque())
        precondition(rc == 0, "cannot start the readiness thread: \(rc)")
        pthread_detach(thread)
    }

    /// Waits until `fd` is readable. Returns false when the task was cancelled.
    func waitReadable(_ fd: Int32) async -> Bool {
        let token = state.withLock { state in
            defer { state.nextToken += 1 }
            state.live.insert(state.nextToken)
            return state.nextToken
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let resumeNow: Bool? = state.withLock { state in
                    if state.cancelledEarly.remove(token) != nil {
                        state.live.remove(token)
                        return false
                    }
                    var event = epoll_event()
                    event.events = EPOLLIN.rawValue | EPOLLONESHOT.rawValue
                    event.data.u64 = token
                    if epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0 {
                        // Not pollable (closed): report readable, the read will say why.
                        state.live.remove(token)
                        return true
                    }
                    state.waiters[token] = Waiter(fd: fd, continuation: continuation)
                    return nil
                }
                if let resumeNow { continuation.resume(returning: resumeNow) }
            }
        } onCancel: {
            let waiter: Waiter? = state.withLock { state in
                guard let waiter = state.waiters.removeValue(forKey: token) else {
                    // Not registered yet: tell the registration. Already
                    // resumed: nothing to do.
                    if state.live.contains(token) { state.cancelledEarly.insert(token) }
                    return nil
                }
                state.live.remove(token)
                epoll_ctl(epoll, EPOLL_CTL_DEL, waiter.fd, nil)
                return waiter
            }
            waiter?.continuation.resume(returning: false)
        }
    }

    /// Resumes the waiters whose fds became readable.
    private func loop() {
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while true {
            let count = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, Int32($0.count), -1) }
            if count < 0 { continue }
            for index in 0..<Int(count) {
                let token = events[index].data.u64
                let waiter: Waiter? = state.withLock { state in
                    guard let waiter = state.waiters.removeValue(forKey: token) else { return nil }
                    state.live.remove(token)
                    epoll_ctl(epoll, EPOLL_CTL_DEL, waiter.fd, nil)
                    return waiter
                }
                waiter?.continuation.resume(returning: true)
            }
        }
    }
}
