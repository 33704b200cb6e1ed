import Logging
import Metrics

/// How a ``ReconcileLoop`` paces itself. Every field has the seed's default,
/// so `ReconcileLoopConfiguration()` is a sensible loop.
public struct ReconcileLoopConfiguration: Sendable {
    /// How often the loop resyncs on its own: the correctness layer.
    public enum Interval: Sendable, Hashable {
        /// Resync this long after the end of the previous pass.
        case every(Duration)
        /// No timer: rely on the monitor alone (while it is up).
        case never
    }

    /// Timer resync period. Default 5 s. Drift is healed within one interval
    /// even when every monitor hint is lost.
    public var interval: Interval
    /// Whether to subscribe to the Source's monitor for low-latency wake-ups.
    /// Default true. A Source without a monitor falls back to the timer silently.
    public var monitor: Bool
    /// How long a hint (or a `setDesired`) waits before its pass, so that a
    /// burst coalesces into one pass. Default 100 ms. The first hint arms the
    /// window; later hints inside it do not extend it, so latency stays bounded.
    public var debounce: Duration
    /// The resync period while the monitor is down (lost, failing to
    /// resubscribe, or unsupported) and `interval` is `.never`, so the loop is
    /// never deaf. Default 5 s.
    public var fallbackInterval: Duration
    /// Spacing between failed passes (a thrown pass, or a report that did not
    /// converge). Default 250 ms doubling to 30 s, 20 % jitter.
    public var retryBackoff: Backoff
    /// Spacing between monitor resubscription attempts. Default 100 ms
    /// doubling to 30 s, 20 % jitter.
    public var resubscribeBackoff: Backoff
    /// Seed for the jitter, for reproducible schedules (tests, simulations).
    /// Nil (the default) uses the system's random generator.
    public var jitterSeed: UInt64?
    /// Names the loop: the `loop` metadata of its logs, the `loop` metric
    /// dimension, its ``ReconcileLoopHealth/label`` and its `description`
    /// (what a `ServiceGroup` calls it).
    public var label: String
    /// Where the loop logs. Default: `Logger(label: "linx.reconcile")`, so
    /// whatever `LoggingSystem` the application bootstrapped (swift-log's
    /// stdout handler at `.info` if none). Every entry carries the label as
    /// `loop` metadata and durations in milliseconds (`durationMs`,
    /// `retryInMs`). At `.info` and above: passes that changed something,
    /// passes that failed or did not converge, monitor losses and recoveries,
    /// start and stop; no-op resyncs and hints are `.debug`.
    public var logger: Logger
    /// Where the loop's metrics go. Default: the global `MetricsSystem`,
    /// which records nothing unless the application bootstraps a backend.
    public var metricsFactory: any MetricsFactory

    /// A configuration; every parameter defaults to the seed's value.
    ///
    /// - Precondition: `interval` (when `.every`) and `fallbackInterval` are
    ///   positive, `debounce` is not negative.
    public init(
        interval: Interval = .every(.seconds(5)),
        monitor: Bool = true,
        debounce: Duration = .milliseconds(100),
        fallbackInterval: Duration = .seconds(5),
        retryBackoff: Backoff = Backoff(initial: .milliseconds(250), maximum: .seconds(30)),
        resubscribeBackoff: Backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(30)),
        jitterSeed: UInt64? = nil,
        label: String = "reconcile",
        logger: Logger? = nil,
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        if case .every(let period) = interval {
            precondition(period > .zero, "ReconcileLoopConfiguration.interval must be positive, got \(period)")
        }
        precondition(debounce >= .zero, "ReconcileLoopConfiguration.debounce must not be negative, got \(debounce)")
        precondition(fallbackInterval > .zero, "ReconcileLoopConfiguration.fallbackInterval must be positive")
        self.interval = interval
        self.monitor = monitor
        self.debounce = debounce
        self.fallbackInterval = fallbackInterval
        self.retryBackoff = retryBackoff
        self.resubscribeBackoff = resubscribeBackoff
        self.jitterSeed = jitterSeed
        self.label = label
        self.logger = logger ?? Logger(label: "linx.reconcile")
        self.metricsFactory = metricsFactory ?? MetricsSystem.factory
    }
}
