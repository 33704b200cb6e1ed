import ServiceLifecycle

/// One subscription to a ``ReconcileLoop``'s events, from
/// ``ReconcileLoop/events(until:)``: an `AsyncSequence` for one reader.
///
/// It holds the events from the moment it was obtained (the newest 256 when
/// its reader falls behind) and ends as its ``End`` says.
public struct ReconcileLoopEvents<Item: Sendable & Hashable, LastApplied: Sendable>: AsyncSequence, Sendable {
    /// One event.
    public typealias Element = ReconcileLoopEvent<Item, LastApplied>
    /// Reading never throws.
    public typealias Failure = Never

    /// When the sequence ends.
    public enum End: Sendable, Hashable {
        /// When the loop's `run()` returns (the loop's events are all read).
        case loopFinished
        /// When the reading task's graceful shutdown begins or it is
        /// cancelled, and never sooner: a loop that finished first leaves the
        /// sequence open (and empty) until then. For a reader running as a
        /// `Service` in the loop's `ServiceGroup`, in any order.
        case gracefulShutdown
    }

    let stream: AsyncStream<Element>
    /// When this sequence ends.
    public let end: End

    init(stream: AsyncStream<Element>, end: End) {
        self.stream = stream
        self.end = end
    }

    /// The sequence's one iterator (a second would share its events).
    public func makeAsyncIterator() -> AsyncIterator {
        switch end {
        case .loopFinished: AsyncIterator(base: .plain(stream.makeAsyncIterator()))
        case .gracefulShutdown: AsyncIterator(base: .guarded(stream.cancelOnGracefulShutdown().makeAsyncIterator()))
        }
    }

    /// Reads the events.
    public struct AsyncIterator: AsyncIteratorProtocol {
        enum Base {
            case plain(AsyncStream<Element>.Iterator)
            case guarded(AsyncCancelOnGracefulShutdownSequence<AsyncStream<Element>>.AsyncIterator)
            case done
        }

        var base: Base

        /// The next event, or nil once the sequence has ended.
        public mutating func next() async -> Element? {
            switch base {
            case .done:
                return nil
            case .plain(var iterator):
                let event = await iterator.next()
                base = event == nil ? .done : .plain(iterator)
                return event
            case .guarded(var iterator):
                if let event = await iterator.next() {
                    base = .guarded(iterator)
                    return event
                }
                base = .done
                // Ended because the loop finished before our own shutdown:
                // stay open until it comes, so the group sees us end on our turn.
                if !Task.isShuttingDownGracefully && !Task.isCancelled {
                    try? await gracefulShutdown()
                }
                return nil
            }
        }
    }
}
