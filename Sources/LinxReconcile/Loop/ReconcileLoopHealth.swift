/// A loop's health at one instant: what a readiness probe or a status page
/// of a node agent reports. Read it with ``ReconcileLoop/health``.
public struct ReconcileLoopHealth<Instant: InstantProtocol>: Sendable, Hashable where Instant.Duration == Duration {
    /// Where the loop is in its life.
    public enum Run: Sendable, Hashable {
        /// `run()` was not called yet (``ReconcileLoop/reconcileNow()`` still works).
        case notStarted
        /// `run()` is driving passes.
        case running
        /// `run()` has returned.
        case finished
    }

    /// What the loop's monitor is doing.
    public enum Monitor: Sendable, Hashable {
        /// Not used: the configuration turned it off, or the loop is not running.
        case off
        /// The first subscription is being made.
        case connecting
        /// Listening: changes wake the loop within its debounce.
        case up
        /// Lost (or its scope is gone): the loop runs on its fallback timer
        /// and resubscribes with backoff.
        case down
        /// The Source has no monitor: the loop runs on its timer alone.
        case unsupported
    }

    /// How a pass ended.
    public enum Outcome: Sendable, Hashable {
        /// Every planned op was applied: the scope is in the desired state.
        case converged
        /// The pass ran, but `failed` ops were refused and `pending` ones never
        /// sent; it is retried with backoff.
        case partial(failed: Int, pending: Int)
        /// The pass could not run at all; nothing was applied.
        case failed(ReconcileError)
    }

    /// The most recent completed pass.
    public struct Pass: Sendable, Hashable {
        /// When it ended, on the loop's clock.
        public var ended: Instant
        /// How long it took.
        public var duration: Duration
        /// How it ended.
        public var outcome: Outcome
    }

    /// The loop's label (``ReconcileLoopConfiguration/label``).
    public var label: String
    /// When this snapshot was taken, on the loop's clock.
    public var takenAt: Instant
    /// Where the loop is in its life.
    public var run: Run
    /// What the monitor is doing.
    public var monitor: Monitor
    /// The last completed pass, nil before the first.
    public var lastPass: Pass?
    /// Passes completed so far (reported or failed).
    public var passes: Int
    /// Consecutive passes that failed or did not converge; 0 once one converges.
    public var consecutiveFailures: Int
    /// While failed passes back off: when the next retry runs unless a change
    /// or a new desired state asks for a pass sooner. Nil when not backing off.
    public var nextRetry: Instant?

    /// Whether the last pass converged (false before the first pass).
    public var converged: Bool { lastPass?.outcome == .converged }
}
