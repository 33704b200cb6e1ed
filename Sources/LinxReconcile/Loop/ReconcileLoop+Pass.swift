extension ReconcileLoop {
    /// Runs one pass, serialised with every other pass, and does its
    /// bookkeeping: ownership, schedule, metrics, logs, events.
    @discardableResult
    func runPass() async -> Result<Report, ReconcileError> {
        while passRunning {
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
                logger.debug(
                    "pass converged",
                    metadata: ["applied": "\(report.applied.count)", "duration": "\(elapsed)"])
            } else {
                let delay = configuration.retryBackoff.delay(attempt: schedule.failures + 1, using: &jitter)
                let retrying = schedule.passFailed(at: end, period: period, delay: delay)
                logger.warning(
                    "pass did not converge; retrying",
                    metadata: [
                        "applied": "\(report.applied.count)", "failed": "\(report.failed.count)",
                        "pending": "\(report.pending.count)", "retryIn": "\(retrying ? "\(delay)" : "the debounce (desired state replaced)")",
                        "firstFailure": "\(report.failed.first.map { "\($0.error)" } ?? "-")",
                    ])
            }
            broadcaster.yield(.report(report))
        case .failure(let error):
            let delay = configuration.retryBackoff.delay(attempt: schedule.failures + 1, using: &jitter)
            let retrying = schedule.passFailed(at: end, period: period, delay: delay)
            metrics.recordError(duration: elapsed)
            logger.warning(
                "pass could not run; keeping last applied state and retrying",
                metadata: ["error": "\(error)", "retryIn": "\(retrying ? "\(delay)" : "the debounce (desired state replaced)")", "failures": "\(schedule.failures)"])
            broadcaster.yield(.error(error))
        }

        counters.passesCompleted += 1
        passRunning = false
        if !passWaiters.isEmpty { passWaiters.removeFirst().resume() }
        probeChanged()
        return result
    }
}
