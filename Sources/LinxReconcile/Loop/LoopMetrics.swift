import Metrics

/// The loop's metrics, each carrying a `loop` dimension with the loop's label.
/// Recorded into the configured factory, which is a no-op unless the
/// application bootstraps a metrics backend.
struct LoopMetrics: Sendable {
    /// `linx_reconcile_passes_total{result="converged"|"partial"|"error"}`.
    let passesConverged: Counter
    let passesPartial: Counter
    let passesFailed: Counter
    /// `linx_reconcile_ops_total{outcome="applied"|"failed"}`.
    let opsApplied: Counter
    let opsFailed: Counter
    /// `linx_reconcile_pass_duration_seconds`, measured on the loop's clock.
    let passDuration: CoreMetrics.Timer
    /// `linx_reconcile_converged`: 1 after a converged pass, 0 otherwise.
    let converged: Gauge
    /// `linx_reconcile_monitor_resubscribes_total`.
    let monitorResubscribes: Counter
    /// `linx_reconcile_monitor_overflows_total`: ENOBUFS resync hints.
    let monitorOverflows: Counter

    static let passesLabel = "linx_reconcile_passes_total"
    static let opsLabel = "linx_reconcile_ops_total"
    static let durationLabel = "linx_reconcile_pass_duration_seconds"
    static let convergedLabel = "linx_reconcile_converged"
    static let resubscribesLabel = "linx_reconcile_monitor_resubscribes_total"
    static let overflowsLabel = "linx_reconcile_monitor_overflows_total"

    init(label: String, factory: any MetricsFactory) {
        let loop = ("loop", label)
        passesConverged = Counter(label: Self.passesLabel, dimensions: [loop, ("result", "converged")], factory: factory)
        passesPartial = Counter(label: Self.passesLabel, dimensions: [loop, ("result", "partial")], factory: factory)
        passesFailed = Counter(label: Self.passesLabel, dimensions: [loop, ("result", "error")], factory: factory)
        opsApplied = Counter(label: Self.opsLabel, dimensions: [loop, ("outcome", "applied")], factory: factory)
        opsFailed = Counter(label: Self.opsLabel, dimensions: [loop, ("outcome", "failed")], factory: factory)
        passDuration = CoreMetrics.Timer(
            label: Self.durationLabel, dimensions: [loop], preferredDisplayUnit: .seconds, factory: factory)
        converged = Gauge(label: Self.convergedLabel, dimensions: [loop], factory: factory)
        monitorResubscribes = Counter(label: Self.resubscribesLabel, dimensions: [loop], factory: factory)
        monitorOverflows = Counter(label: Self.overflowsLabel, dimensions: [loop], factory: factory)
    }

    /// Records one pass that returned a report.
    func record(appliedOps: Int, failedOps: Int, converged isConverged: Bool, duration: Duration) {
        (isConverged ? passesConverged : passesPartial).increment()
        opsApplied.increment(by: appliedOps)
        opsFailed.increment(by: failedOps)
        passDuration.recordNanoseconds(duration.nanoseconds)
        converged.record(isConverged ? 1 : 0)
    }

    /// Records one pass that could not run.
    func recordError(duration: Duration) {
        passesFailed.increment()
        passDuration.recordNanoseconds(duration.nanoseconds)
        converged.record(0)
    }
}

fileprivate extension Duration {
    /// Whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return scaled &+ attoseconds / 1_000_000_000
    }
}
