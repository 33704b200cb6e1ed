/// A wake-up from a Source's monitor. Level-triggered: the loop never acts on
/// a payload, it only re-observes. Events are hints; resync is truth.
public enum ReconcileHint: Sendable, Hashable {
    /// Something in the scope changed: look now.
    case changed
    /// Events were lost (ENOBUFS): a full resync is needed.
    case resyncNeeded
    /// The scope no longer names what the monitor watched (a namespace was
    /// deleted, or its name now names another one): the monitor let go of it
    /// and goes on following the name. The loop reports the monitor lost,
    /// resyncs at once and runs on its fallback timer until ``scopeReplaced``.
    case scopeLost(ReconcileError)
    /// The scope names something again (a namespace re-created under the
    /// same name) and the monitor now watches it: the loop reports the monitor
    /// back and resyncs at once.
    case scopeReplaced
}

/// What `subscribe` gives the loop.
public enum HintSubscription: Sendable {
    /// The Source has no monitor; the loop runs on its timer alone.
    case unsupported
    /// A stream of hints. It finishes with an error when the monitor dies;
    /// the consumer cancelling its iteration releases the monitor.
    case hints(AsyncThrowingStream<ReconcileHint, any Error>)
}
