/// A wake-up from a Source's monitor. Level-triggered: the loop never acts on
/// a payload, it only re-observes. Events are hints; resync is truth.
public enum ReconcileHint: Sendable, Hashable {
    /// Something in the scope changed: look now.
    case changed
    /// Events were lost (ENOBUFS): a full resync is needed.
    case resyncNeeded
}

/// What `subscribe` gives the loop.
public enum HintSubscription: Sendable {
    /// The Source has no monitor; the loop runs on its timer alone.
    case unsupported
    /// A stream of hints. It finishes with an error when the monitor dies;
    /// the consumer cancelling its iteration releases the monitor.
    case hints(AsyncThrowingStream<ReconcileHint, any Error>)
}
