import Synchronization

/// Wakes the loop's driver when it should look at its schedule again: a hint
/// arrived, the desired state changed, a stop was asked for.
///
/// A binary semaphore (signals made while nobody waits are remembered once),
/// plus a sticky stop flag. It is a lock-protected class rather than actor
/// state so that synchronous callers (the graceful-shutdown handler, a
/// cancellation handler) can use it.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var stopped = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Whether a stop was asked for. Never resets.
    var isStopped: Bool { state.withLock { $0.stopped } }

    /// Wakes the waiter, or makes the next `wait` return at once.
    func signal() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let waiter = s.waiter else {
                s.pending = true
                return nil
            }
            s.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Marks the loop stopped and wakes it.
    func stop() {
        state.withLock { $0.stopped = true }
        signal()
    }

    /// Suspends until signalled (or returns at once if a signal is pending,
    /// the loop is stopped, or the task is cancelled). One waiter at a time.
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.pending || s.stopped || Task.isCancelled {
                        s.pending = false
                        return true
                    }
                    precondition(s.waiter == nil, "WakeSignal supports one waiter")
                    s.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume()
        }
    }
}
