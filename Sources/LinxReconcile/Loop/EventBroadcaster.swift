import Synchronization

/// Fans the loop's events out to every current subscriber.
///
/// Each subscriber gets its own `AsyncStream` that sees events from the
/// moment it subscribed. A slow subscriber keeps only the newest `buffer`
/// events rather than growing without bound; the loop never waits for one.
final class EventBroadcaster<Element: Sendable>: Sendable {
    private struct State {
        var nextID = 0
        var subscribers: [Int: AsyncStream<Element>.Continuation] = [:]
        var finished = false
    }

    private let state = Mutex(State())
    private let buffer: Int

    init(buffer: Int) {
        self.buffer = buffer
    }

    /// A new stream of the events from now on; finished when the loop ends.
    func subscribe() -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream.makeStream(of: Element.self, bufferingPolicy: .bufferingNewest(buffer))
        let id = state.withLock { s -> Int? in
            if s.finished { return nil }
            s.nextID += 1
            s.subscribers[s.nextID] = continuation
            return s.nextID
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Delivers `element` to every subscriber.
    func yield(_ element: Element) {
        let subscribers = state.withLock { Array($0.subscribers.values) }
        for subscriber in subscribers { subscriber.yield(element) }
    }

    /// Ends every stream; later subscribers get an already-finished stream.
    func finish() {
        let subscribers = state.withLock { s -> [AsyncStream<Element>.Continuation] in
            s.finished = true
            defer { s.subscribers = [:] }
            return Array(s.subscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
    }
}
