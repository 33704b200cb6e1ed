import ServiceLifecycle

extension ReconcileLoop {
    /// Runs the loop until graceful shutdown, ``stop()`` or cancellation.
    ///
    /// Subscribes to the monitor first (so no change slips between the first
    /// dump and the subscription), then drives passes. Returns after any pass
    /// in progress finishes; the monitor task is cancelled and awaited, so
    /// nothing outlives the call. A loop runs once: a second call returns at once.
    public func run() async throws {
        guard lifecycle == .idle else {
            logger.error("run() called on a loop that already ran; ignoring")
            return
        }
        lifecycle = .running
        logger.info("loop starting")
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { [alarm, clock, wake] in await alarm.run(clock: clock, wake: wake) }
                if configuration.monitor {
                    monitorState = .connecting
                    monitorPhase = .busy
                    let first = await subscribe()
                    // Settle the monitor's state before the first pass, so that
                    // pass uses the right timer period and is the only resync.
                    switch first {
                    case .success(.hints): monitorState = .up
                    case .success(.unsupported): monitorState = .unsupported
                    case .failure(let error): monitorLost(error)
                    }
                    group.addTask { await self.monitor(startingWith: first) }
                }
                await drive()
                group.cancelAll()
            }
        } onGracefulShutdown: { [wake] in
            wake.stop()
        }
        lifecycle = .finished
        driverParked = false
        logger.info("loop stopped")
        broadcaster.finish()
        probeChanged()
    }

    /// The driver: runs each pass when the schedule says it is due, parks in
    /// between. Only this task (and `reconcileNow`) run passes.
    func drive() async {
        while !wake.isStopped && !Task.isCancelled {
            let now = clock.now
            if schedule.isDue(at: now) {
                await runPass()
                continue
            }
            await park(until: schedule.nextDue(now: now))
        }
    }

    /// Waits until `deadline` (if any) or a wake-up, whichever comes first.
    /// The alarm task rings at the deadline, so the driver waits on one
    /// signal only and a hint reaches it in one hop.
    func park(until deadline: C.Instant?) async {
        driverParked = true
        wakeInFlight = false
        probeChanged()
        alarm.arm(deadline)
        await wake.wait()
        driverParked = false
        wakeInFlight = false
    }
}
