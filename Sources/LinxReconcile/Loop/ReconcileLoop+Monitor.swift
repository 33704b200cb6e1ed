import Logging

extension ReconcileLoop {
    /// What the monitor task is doing, so that "idle" can include it.
    enum MonitorPhase: Sendable {
        /// Not running (monitor off, unsupported, or the loop ended).
        case inactive
        /// Awaiting the Source's `subscribe`, or handling a hint or a loss.
        case busy
        /// Waiting for the next hint.
        case listening
        /// Waiting until this instant before resubscribing.
        case backingOff(C.Instant)
    }

    /// One subscription attempt.
    func subscribe() async -> Result<HintSubscription, ReconcileError> {
        do {
            return .success(try await source.subscribe(scope: scope))
        } catch {
            return .failure(error)
        }
    }

    /// Keeps the monitor alive for as long as the loop runs: forwards its hints
    /// to the schedule, and when it fails or ends, resyncs at once, falls back
    /// to the timer and resubscribes with backoff.
    func monitor(startingWith first: Result<HintSubscription, ReconcileError>) async {
        defer {
            monitorPhase = .inactive
            probeChanged()
        }
        var next: Result<HintSubscription, ReconcileError>? = first
        var attempt = 0
        var wasUp = false
        while !Task.isCancelled && !wake.isStopped {
            let outcome: Result<HintSubscription, ReconcileError>
            if let pending = next {
                outcome = pending
                next = nil
            } else {
                monitorPhase = .busy
                outcome = await subscribe()
            }
            switch outcome {
            case .success(.unsupported):
                logger.debug("source has no monitor; running on the timer alone")
                monitorState = .unsupported
                schedule.periodChanged(at: clock.now, period: period)
                wakeDriver()
                return
            case .success(.hints(let stream)):
                counters.subscriptions += 1
                if wasUp || monitorState == .down { monitorRegained("monitor resubscribed; resyncing") }
                wasUp = true
                monitorState = .up
                schedule.periodChanged(at: clock.now, period: period)
                wakeDriver()
                let failure = await listen(to: stream, resettingBackoff: &attempt)
                if Task.isCancelled || wake.isStopped { return }
                if monitorState == .down {
                    // Already reported lost (its scope went) and then ended for good.
                    logger.debug("monitor ended while its scope was gone", metadata: ["error": "\(failure.map { "\($0)" } ?? "stream ended")"])
                } else {
                    monitorLost(failure)
                }
            case .failure(let error):
                if monitorState == .down {
                    logger.debug("monitor resubscription failed", metadata: ["error": "\(error)"])
                } else {
                    monitorLost(error)
                }
            }
            attempt += 1
            let deadline = clock.now.advanced(
                by: configuration.resubscribeBackoff.delay(attempt: attempt, using: &jitter))
            monitorPhase = .backingOff(deadline)
            probeChanged()
            do {
                try await clock.sleep(until: deadline, tolerance: nil)
            } catch {
                return
            }
        }
    }

    /// Forwards hints until the stream ends; returns its error, if any.
    private func listen(
        to stream: AsyncThrowingStream<ReconcileHint, any Error>, resettingBackoff attempt: inout Int
    ) async -> (any Error)? {
        var hints = stream.makeAsyncIterator()
        do {
            while true {
                monitorPhase = .listening
                probeChanged()
                guard let hint = try await hints.next() else { return nil }
                monitorPhase = .busy
                attempt = 0
                noteHint(hint)
            }
        } catch {
            monitorPhase = .busy
            return error
        }
    }

    /// A hint from the monitor: debounce a change, resync at once on overflow.
    func noteHint(_ hint: ReconcileHint) {
        counters.hintsReceived += 1
        switch hint {
        case .changed:
            schedule.noteChange(at: clock.now, debounce: configuration.debounce)
        case .resyncNeeded:
            metrics.monitorOverflows.increment()
            logger.debug("monitor overflowed (events lost); resyncing")
            schedule.requestImmediate()
        case .scopeLost(let error):
            // The monitor let go of a namespace that lost its name; it goes on
            // following the name, so this is a loss the stream itself recovers from.
            if monitorState == .up { monitorLost(error) }
            return
        case .scopeReplaced:
            if monitorState != .up {
                monitorRegained("monitor follows the re-created scope; resyncing")
                monitorState = .up
                schedule.periodChanged(at: clock.now, period: period)
            }
        }
        wakeDriver()
        probeChanged()
    }

    /// The monitor listens again after a loss: say so and resync, since
    /// whatever changed while it was deaf left no hint.
    private func monitorRegained(_ message: Logger.Message) {
        metrics.monitorResubscribes.increment()
        logger.info(message)
        broadcaster.yield(.monitorResubscribed)
        schedule.requestImmediate()
    }

    /// The monitor failed or ended: never stay deaf.
    func monitorLost(_ error: (any Error)?) {
        monitorPhase = .busy
        monitorState = .down
        counters.monitorLosses += 1
        logger.warning(
            "monitor lost; resyncing, falling back to the timer and resubscribing",
            metadata: ["error": "\(error.map { "\($0)" } ?? "stream ended")"])
        broadcaster.yield(.monitorLost(error))
        schedule.requestImmediate()
        schedule.periodChanged(at: clock.now, period: period)
        wakeDriver()
        probeChanged()
    }
}
