/// A snapshot of a loop's progress, for tests and benchmarks that drive it on
/// virtual time and need to know, without sleeping, when it has settled.
package struct ReconcileLoopProbe: Sendable, Hashable {
    /// Hints received from the monitor.
    package var hintsReceived = 0
    /// Passes begun (including forced ones).
    package var passesStarted = 0
    /// Passes finished, whether they reported or threw.
    package var passesCompleted = 0
    /// Passes waiting for the one in flight to finish.
    package var passesWaiting = 0
    /// Successful monitor subscriptions.
    package var subscriptions = 0
    /// Times the monitor was lost (or could not subscribe at start).
    package var monitorLosses = 0
    /// Consecutive failed passes.
    package var failures = 0
    /// The driver is parked, no pass runs, none is due at the clock's `now`,
    /// no wake-up is in flight, and the monitor task waits for a hint or for
    /// a future resubscription instant: nothing happens until time moves or
    /// something new arrives.
    package var isIdle = false
    /// Whether the monitor is currently listening.
    package var monitorUp = false
    /// `run()` has returned.
    package var finished = false

    /// All zero: a loop that has not started.
    package init() {}
}

/// A test waiting for a probe condition.
struct ProbeWaiter {
    let id: Int
    let condition: @Sendable (ReconcileLoopProbe) -> Bool
    let continuation: CheckedContinuation<ReconcileLoopProbe, Never>
}

extension ReconcileLoop {
    /// The loop's progress now.
    package var probe: ReconcileLoopProbe {
        var snapshot = counters
        snapshot.failures = schedule.failures
        snapshot.passesWaiting = passWaiters.count
        snapshot.monitorUp = monitorState == .up
        snapshot.finished = lifecycle == .finished
        let now = clock.now
        let monitorSettled =
            switch monitorPhase {
            case .inactive, .listening: true
            case .busy: false
            case .backingOff(let deadline): deadline > now
            }
        snapshot.isIdle =
            lifecycle == .running && driverParked && !wakeInFlight && !passRunning
            && !schedule.isDue(at: now) && monitorSettled
        return snapshot
    }

    /// Suspends until `condition` holds for the loop's probe, and returns it.
    /// Re-checked on every change of the loop's state (not of the clock).
    /// Also returns (with the probe as it is) once `run()` has returned or
    /// when the waiting task is cancelled, so a waiter never outlives the loop.
    @discardableResult
    package func waitUntil(_ condition: @escaping @Sendable (ReconcileLoopProbe) -> Bool) async -> ReconcileLoopProbe {
        let now = probe
        if condition(now) || now.finished { return now }
        nextProbeWaiterID += 1
        let id = nextProbeWaiterID
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(returning: probe)
                } else {
                    probeWaiters.append(ProbeWaiter(id: id, condition: condition, continuation: continuation))
                }
            }
        } onCancel: {
            Task { await self.releaseProbeWaiter(id) }
        }
    }

    /// Resumes the waiter `id` (cancelled) with the probe as it is.
    private func releaseProbeWaiter(_ id: Int) {
        guard let index = probeWaiters.firstIndex(where: { $0.id == id }) else { return }
        probeWaiters.remove(at: index).continuation.resume(returning: probe)
    }

    /// Resumes the waiters whose condition now holds (all of them once the
    /// loop has finished).
    func probeChanged() {
        guard !probeWaiters.isEmpty else { return }
        let now = probe
        var still: [ProbeWaiter] = []
        for waiter in probeWaiters {
            if now.finished || waiter.condition(now) {
                waiter.continuation.resume(returning: now)
            } else {
                still.append(waiter)
            }
        }
        probeWaiters = still
    }
}
