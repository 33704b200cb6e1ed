import Logging
import ServiceLifecycle

/// The opt-in, level-triggered loop that keeps one Source converged in one
/// scope: timer resync is truth, monitor hints are latency.
///
/// Nothing runs until you call ``run()``, typically by adding the loop to your
/// own `ServiceGroup`; the loop holds only the desired state and `lastApplied`
/// you give it. While running it
/// - runs a pass at once, then again one `interval` after each pass;
/// - subscribes to the Source's monitor (unless told not to) and runs a pass
///   one `debounce` after a hint, coalescing bursts; ENOBUFS resyncs at once;
/// - never overlaps passes: a hint or `setDesired` during a pass arms exactly
///   one more;
/// - survives failures: a pass that throws (or does not converge) keeps the
///   previous `lastApplied` and is retried with capped exponential backoff and
///   jitter (a change hint during the backoff still runs its pass after the
///   debounce: the backoff spaces only the retries nothing asked for); a
///   monitor that dies triggers an immediate resync, a fallback timer and
///   resubscription with backoff;
/// - serves ``reconcileNow()`` callers in arrival order;
/// - returns from `run()` promptly on graceful shutdown, ``stop()`` or
///   cancellation, leaving no task behind.
///
/// Time comes from the injected `clock`, so tests drive it on virtual time.
///
/// Where it departs from the Elixir original (seed 001), and why:
/// - A lost monitor does not kill the loop for a supervisor to restart it;
///   the loop resyncs, falls back to its timer and resubscribes with backoff
///   itself, so one flaky socket never tears down a `ServiceGroup`.
/// - A pass whose report did not converge is retried with the same backoff
///   as one that threw, so a monitor-only loop (`interval: .never`) still
///   finishes a partial apply.
/// - The debounce window opens at the first hint and is not extended by
///   later ones: a steady stream of events cannot postpone the pass forever.
/// - `setDesired` starts the failure backoff over: a corrected desired state
///   is tried after the debounce, not after the backoff a broken one earned.
public actor ReconcileLoop<Source: ReconcileSource, C: Clock>: Service where C.Duration == Duration {
    /// The report of one pass.
    public typealias Report = ReconcileReport<Source.Item, Source.LastApplied>
    /// What ``events`` delivers.
    public typealias Event = ReconcileLoopEvent<Source.Item, Source.LastApplied>
    /// A stream of this loop's events (see ``events(until:)``).
    public typealias Events = ReconcileLoopEvents<Source.Item, Source.LastApplied>
    /// What ``health`` returns.
    public typealias Health = ReconcileLoopHealth<C.Instant>

    enum Lifecycle { case idle, running, finished }
    enum MonitorState { case off, connecting, up, down, unsupported }

    let source: Source
    let scope: Source.Scope
    let options: Source.Options
    let configuration: ReconcileLoopConfiguration
    let clock: C
    let logger: Logger
    let metrics: LoopMetrics
    let broadcaster = EventBroadcaster<Event>(buffer: 256)
    let wake = WakeSignal()
    let alarm = Alarm<C.Instant>()

    /// The desired state the loop converges on.
    public internal(set) var desired: Source.Desired
    /// The ownership state threaded into the next pass. A pass that throws
    /// leaves it unchanged.
    public internal(set) var lastApplied: Source.LastApplied
    /// The report of the most recent completed pass; nil before the first.
    public internal(set) var lastReport: Report?

    var schedule = PassSchedule<C.Instant>()
    var jitter: JitterSource
    var lifecycle = Lifecycle.idle
    var monitorState = MonitorState.off
    var monitorPhase = MonitorPhase.inactive
    var passRunning = false
    var passWaiters: [CheckedContinuation<Void, Never>] = []
    var driverParked = false
    var wakeInFlight = false
    var lastPass: Health.Pass?
    var counters = ReconcileLoopProbe()
    var probeWaiters: [ProbeWaiter] = []
    var nextProbeWaiterID = 0

    /// A loop over `source` in `scope`, converging on `desired`.
    ///
    /// - Parameters:
    ///   - source: the Source each pass runs.
    ///   - scope: where it acts (a namespace, a cgroup directory ...).
    ///   - desired: the state to converge on; replace it with ``setDesired(_:)``.
    ///   - options: forwarded verbatim to every `reconcile` call.
    ///   - lastApplied: initial ownership (what earlier runs installed), so a
    ///     restarted agent keeps releasing what it owns.
    ///   - configuration: pacing (interval, debounce, backoffs), label, logger, metrics.
    ///   - clock: where time comes from; inject a virtual clock in tests.
    public init(
        source: Source,
        scope: Source.Scope,
        desired: Source.Desired,
        options: Source.Options,
        lastApplied: Source.LastApplied,
        configuration: ReconcileLoopConfiguration = ReconcileLoopConfiguration(),
        clock: C
    ) {
        self.source = source
        self.scope = scope
        self.desired = desired
        self.options = options
        self.lastApplied = lastApplied
        self.configuration = configuration
        self.clock = clock
        var logger = configuration.logger
        logger[metadataKey: "loop"] = "\(configuration.label)"
        self.logger = logger
        self.metrics = LoopMetrics(label: configuration.label, factory: configuration.metricsFactory)
        self.jitter = JitterSource(seed: configuration.jitterSeed)
    }

    /// Owner notifications: a `.report` after every completed pass, an
    /// `.error` for a pass that could not run, and monitor losses and
    /// recoveries, from this moment on (obtain it before `run()` to see the
    /// first pass). A reader that falls behind keeps the newest 256.
    ///
    /// `until` says when the stream ends:
    /// - ``ReconcileLoopEvents/End/loopFinished`` (the default): when `run()`
    ///   returns. For a reader outside a `ServiceGroup`.
    /// - ``ReconcileLoopEvents/End/gracefulShutdown``: when the *reading*
    ///   task's graceful shutdown begins (or it is cancelled), never because
    ///   the loop finished first. For a reader that is itself a `Service` in
    ///   the same `ServiceGroup` as the loop: the group may shut the two down
    ///   in either order and neither ends early, so it never fails with
    ///   `serviceFinishedUnexpectedly`. Outside a group such a stream ends only
    ///   when its task is cancelled.
    ///
    /// Each call is a subscription of its own; obtain it once and hand it to
    /// the one task that reads it.
    public nonisolated func events(until end: Events.End = .loopFinished) -> Events {
        Events(stream: broadcaster.subscribe(), end: end)
    }

    /// Shorthand for ``events(until:)`` with `.loopFinished`: a new
    /// subscription on each read.
    public nonisolated var events: Events {
        events(until: .loopFinished)
    }

    /// The loop's health now: running or not, the monitor's state, the last
    /// pass (when, how long, how it ended), consecutive failures and when the
    /// next retry is due while backing off. For readiness probes and status pages.
    public var health: Health {
        let monitor: Health.Monitor =
            switch monitorState {
            case .off: .off
            case .connecting: .connecting
            case .up: .up
            case .down: .down
            case .unsupported: .unsupported
            }
        let run: Health.Run =
            switch lifecycle {
            case .idle: .notStarted
            case .running: .running
            case .finished: .finished
            }
        return Health(
            label: configuration.label, takenAt: clock.now, run: run,
            monitor: lifecycle == .finished ? .off : monitor, lastPass: lastPass,
            passes: counters.passesCompleted, consecutiveFailures: schedule.failures,
            nextRetry: schedule.retryDeadline)
    }

    /// Runs one pass now (after any pass in progress, never overlapping it)
    /// and returns its report, whether or not ``run()`` is active.
    ///
    /// The pass counts like any other: it satisfies pending hints, resets the
    /// timer, is announced on ``events`` and, if it throws, keeps the previous
    /// `lastApplied` and arms the retry backoff.
    public func reconcileNow() async throws(ReconcileError) -> Report {
        let result = await runPass()
        wakeDriver()
        return try result.get()
    }

    /// Replaces the desired state. Returns at once; a pass follows after the
    /// debounce (even while failed passes are backing off: the backoff starts
    /// over). Objects the old state owned and the new one does not name are
    /// released by that pass (per the Source's ownership rules).
    public func setDesired(_ desired: Source.Desired) {
        self.desired = desired
        schedule.desiredChanged(at: clock.now, debounce: configuration.debounce)
        wakeDriver()
        probeChanged()
    }

    /// Asks the loop to stop: `run()` returns after any pass in progress.
    /// Safe to call from anywhere, any number of times, before or during `run()`.
    /// Inside a `ServiceGroup`, prefer the group's graceful shutdown: a
    /// service returning on its own ends the group by default.
    public nonisolated func stop() {
        wake.stop()
    }

    /// The timer period in force: the configured interval, or the fallback
    /// while the monitor is not listening and the interval is `.never`.
    var period: Duration? {
        switch configuration.interval {
        case .every(let period): period
        case .never: monitorState == .up ? nil : configuration.fallbackInterval
        }
    }

    /// Makes the driver look at the schedule again.
    func wakeDriver() {
        if driverParked { wakeInFlight = true }
        wake.signal()
    }
}

extension ReconcileLoop: CustomStringConvertible {
    /// The loop's label, so a `ServiceGroup` names the loop by it in its logs
    /// and errors rather than by its generic type.
    public nonisolated var description: String { configuration.label }
}

/// A loop on the real (continuous) clock, the one an agent runs: spell
/// `ContinuousReconcileLoop<RtnlSource>` to store or pass one around.
public typealias ContinuousReconcileLoop<Source: ReconcileSource> = ReconcileLoop<Source, ContinuousClock>

extension ReconcileLoop where C == ContinuousClock {
    /// A loop on the real (continuous) clock.
    public init(
        source: Source,
        scope: Source.Scope,
        desired: Source.Desired,
        options: Source.Options,
        lastApplied: Source.LastApplied,
        configuration: ReconcileLoopConfiguration = ReconcileLoopConfiguration()
    ) {
        self.init(
            source: source, scope: scope, desired: desired, options: options,
            lastApplied: lastApplied, configuration: configuration, clock: ContinuousClock())
    }
}
