/// What a ``ReconcileLoop`` tells its owner, through ``ReconcileLoop/events``.
public enum ReconcileLoopEvent<Item: Sendable & Hashable, LastApplied: Sendable>: Sendable {
    /// A pass completed (converged or partial); its report.
    case report(ReconcileReport<Item, LastApplied>)
    /// A pass could not run at all; the previous `lastApplied` was kept and a
    /// retry is scheduled with backoff.
    case error(ReconcileError)
    /// The monitor ended or failed (nil when it simply finished). The loop
    /// resyncs at once, falls back to its timer and resubscribes with backoff.
    case monitorLost((any Error)?)
    /// The monitor is back after a loss; a full resync follows at once.
    case monitorResubscribed
}
