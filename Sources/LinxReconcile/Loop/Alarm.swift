import Synchronization

/// Rings the loop's wake signal when the driver's next deadline comes, from a
/// task of its own.
///
/// With the alarm outside it, the driver only ever waits on the wake signal:
/// a hint or a `setDesired` reaches it in one task hop, and re-arming (which
/// every park does) costs it nothing. Each arming rings at most once; a
/// deadline already past rings at once.
final class Alarm<Instant: Sendable & Comparable>: Sendable {
    private struct State {
        var deadline: Instant?
        var version = 0
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Arms the alarm for `deadline` (nil: no alarm), replacing any earlier arming.
    func arm(_ deadline: Instant?) {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.deadline = deadline
            s.version += 1
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    /// The alarm's task: until cancelled, sleeps until each armed deadline
    /// and then signals `wake`.
    func run<C: Clock>(clock: C, wake: WakeSignal) async where C.Instant == Instant {
        var rang = -1
        while !Task.isCancelled {
            let (deadline, version) = state.withLock { ($0.deadline, $0.version) }
            guard version != rang, let deadline else {
                await rearmed(after: version)
                continue
            }
            let due = await withTaskGroup(of: Bool.self) { group in
                group.addTask { (try? await clock.sleep(until: deadline, tolerance: nil)) != nil }
                group.addTask {
                    await self.rearmed(after: version)
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            if due {
                rang = version
                wake.signal()
            }
        }
    }

    /// Suspends until the alarm is armed again after `version`, or the task
    /// is cancelled.
    private func rearmed(after version: Int) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.version != version || Task.isCancelled { return true }
                    precondition(s.waiter == nil, "Alarm supports one task")
                    s.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
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
