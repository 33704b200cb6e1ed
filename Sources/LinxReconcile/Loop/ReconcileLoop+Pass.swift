extension ReconcileLoop {
    /// Runs one pass, serialised with every other pass, and does its
    /// bookkeeping: ownership, schedule, metrics, logs, events.
    ///
    /// Callers are served in arrival order: a finishing pass hands the turn
    /// straight to the oldest waiter without ever marking the loop free, so a
    /// caller arriving in between queues behind it instead of jumping ahead.
    @discardableResult
    func runPass() async -> Result<Report, ReconcileError> {
        if passRunning {
            // Resumed only by the pass before, which leaves `passRunning` set: the turn is ours.
            await withCheckedContinuation {
                passWaiters.append($0)
                probeChanged()
            }
        }
        passRunning = true
        schedule.passStarted()
        counters.passesStarted += 1
        probeChanged()

        let desired = self.desired
        let previous = self.lastApplied
        let start = clock.now
        let result: Result<Report, ReconcileError>
        do {
            result = .success(
                try await source.reconcile(scope: scope, desired: desired, lastApplied: previous, options: options))
        } catch {
            result = .failure(error)
        }
        let end = clock.now
        let elapsed = start.duration(to: end)

        switch result {
        case .success(let report):
            lastApplied = report.lastApplied
            lastReport = report
            metrics.record(
                appliedOps: report.applied.count, failedOps: report.failed.count,
                converged: report.converged, duration: elapsed)
            if report.converged {
                schedule.passSucceeded(at: end, period: period)
                lastPass = .init(ended: end, duration: elapsed, outcome: .converged)
                // A pass that changed something is news; a no-op resync is not.
                logger.log(
                    level: report.applied.isEmpty ? .debug : .info, "pass converged",
                    metadata: ["applied": "\(report.applied.count)", "durationMs": "\(elapsed.loggedMilliseconds)"])
            } else {
                let delay = configuration.retryBackoff.delay(attempt: schedule.failures + 1, using: &jitter)
                let retrying = schedule.passFailed(at: end, period: period, delay: delay)
                lastPass = .init(
                    ended: end, duration: elapsed,
                    outcome: .partial(failed: report.failed.count, pending: report.pending.count))
                logger.warning(
                    "pass did not converge; retrying",
                    metadata: [
                        "applied": "\(report.applied.count)", "failed": "\(report.failed.count)",
                        "pending": "\(report.pending.count)", "durationMs": "\(elapsed.loggedMilliseconds)",
                        "retryInMs": "\(retrying ? delay.loggedMilliseconds : "after the debounce (desired state replaced)")",
                        "firstFailure": "\(report.failed.first.map { "\($0.error)" } ?? "-")",
                    ])
            }
            broadcaster.yield(.report(report))
        case .failure(let error):
            let delay = configuration.retryBackoff.delay(attempt: schedule.failures + 1, using: &jitter)
            let retrying = schedule.passFailed(at: end, period: period, delay: delay)
            lastPass = .init(ended: end, duration: elapsed, outcome: .failed(error))
            metrics.recordError(duration: elapsed)
            logger.warning(
                "pass could not run; keeping last applied state and retrying",
                metadata: [
                    "error": "\(error)", "durationMs": "\(elapsed.loggedMilliseconds)",
                    "retryInMs": "\(retrying ? delay.loggedMilliseconds : "after the debounce (desired state replaced)")",
                    "failures": "\(schedule.failures)",
                ])
            broadcaster.yield(.error(error))
        }

        counters.passesCompleted += 1
        if passWaiters.isEmpty {
            passRunning = false
        } else {
            passWaiters.removeFirst().resume()
        }
        probeChanged()
        return result
    }
}
