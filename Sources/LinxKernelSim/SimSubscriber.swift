import DequeModule
import LinxReconcile
import Synchronization

/// An event a ``SimSubscriber`` carries, with the event that stands for
/// "events were lost".
protocol SimEvent: Sendable {
    static var overflow: Self { get }
}

extension RtnlEvent: SimEvent {}
extension NftEvent: SimEvent {}

/// What a read finds under the lock: an event (nil: closed), a failure, or nothing yet.
private enum SubscriberRead<Event> {
    case value(Event?), failure(KernelError), wait
}

/// One event monitor on a namespace: a bounded receive buffer, like a
/// netlink socket's.
///
/// When the buffer is full a new event is dropped and the subscriber is
/// marked overflowed; its reader then gets ``RtnlEvent/overflow`` once, before
/// the events still queued, just as a netlink socket reports ENOBUFS on the
/// next receive. The monitor can also die: the stream then finishes with the
/// error at the next read.
final class SimSubscriber<Event: SimEvent>: Sendable {
    private struct State {
        var buffer: Deque<Event> = []
        var overflowPending = false
        var failure: KernelError?
        var closed = false
        var waiter: CheckedContinuation<Event?, any Error>?
    }

    /// How many events the buffer holds before it drops.
    let capacity: Int
    private let state: Mutex<State>
    /// Set, under the lock, whenever `closed` or `failure` is: lets the
    /// kernel see a gone reader without taking the lock for each event.
    private let gone = Atomic<Bool>(false)

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        // The buffer's room made once (up to the default 1,024 events): a
        // monitor nobody reads fills it in every fuzz scenario, and growing
        // it step by step copied every event about once more.
        state = Mutex(State(buffer: Deque(minimumCapacity: min(self.capacity, 1024))))
    }

    /// True once the reader went away or the monitor died; the kernel then
    /// forgets the subscriber.
    var isClosed: Bool { state.withLock { $0.closed || $0.failure != nil } }

    /// ``isClosed`` without the lock: true once the reader went away or the
    /// monitor died (it may turn true at any moment after a false).
    var isGone: Bool { gone.load(ordering: .acquiring) }

    /// What ``offer(_:)`` did with an event.
    enum Offer { case accepted, lost, closed }

    /// ``offer(_:)`` for each of `events` in order, under one lock: what
    /// offering them one by one does while the reader does not run in
    /// between (a waiting reader takes the first, the rest queue or are
    /// lost). Returns how many were lost, and true when the subscriber is
    /// closed (then none was taken). A batch of requests offers its events
    /// to the namespace's monitors this way, once at its end.
    func offer(contentsOf events: [Event]) -> (lost: Int, closed: Bool) {
        guard !events.isEmpty else { return (0, isClosed) }
        let (waiter, lost, closed) = state.withLock { s -> (CheckedContinuation<Event?, any Error>?, Int, Bool) in
            if s.closed || s.failure != nil { return (nil, 0, true) }
            var start = 0
            let waiter = s.waiter
            if waiter != nil {
                s.waiter = nil
                start = 1
            }
            // The room left takes the first ones; the rest are lost, as one
            // by one they would meet a full buffer.
            let taken = Swift.min(events.count - start, Swift.max(0, capacity - s.buffer.count))
            s.buffer.append(contentsOf: events[start..<(start + taken)])
            let lost = events.count - start - taken
            if lost > 0 { s.overflowPending = true }
            return (waiter, lost, false)
        }
        waiter?.resume(returning: events[0])
        return (lost, closed)
    }

    /// ``deliver(_:)`` and ``isClosed`` under one lock: `closed` when the
    /// reader is gone (nothing queued), `lost` when the buffer is full (the
    /// reader will see an overflow), else `accepted`. Every rtnl mutation
    /// offers its events to each monitor of the namespace.
    func offer(_ event: Event) -> Offer {
        let (waiter, offer) = state.withLock { s -> (CheckedContinuation<Event?, any Error>?, Offer) in
            if s.closed || s.failure != nil { return (nil, .closed) }
            if let waiter = s.waiter {
                s.waiter = nil
                return (waiter, .accepted)
            }
            if s.buffer.count >= capacity {
                s.overflowPending = true
                return (nil, .lost)
            }
            s.buffer.append(event)
            return (nil, .accepted)
        }
        waiter?.resume(returning: event)
        return offer
    }

    /// Queues `event`; returns false when it was dropped (buffer full).
    @discardableResult
    func deliver(_ event: Event) -> Bool {
        let (waiter, accepted) = state.withLock { s -> (CheckedContinuation<Event?, any Error>?, Bool) in
            if s.closed || s.failure != nil { return (nil, false) }
            if let waiter = s.waiter {
                s.waiter = nil
                return (waiter, true)
            }
            if s.buffer.count >= capacity {
                s.overflowPending = true
                return (nil, false)
            }
            s.buffer.append(event)
            return (nil, true)
        }
        waiter?.resume(returning: event)
        return accepted
    }

    /// Marks events as lost (the ENOBUFS fault): the reader sees
    /// ``RtnlEvent/overflow`` next.
    func forceOverflow() {
        let waiter = state.withLock { s -> CheckedContinuation<Event?, any Error>? in
            if s.closed || s.failure != nil { return nil }
            if let waiter = s.waiter {
                s.waiter = nil
                return waiter
            }
            s.overflowPending = true
            return nil
        }
        waiter?.resume(returning: .overflow)
    }

    /// Kills the monitor: the reader's next read throws `error`.
    func kill(_ error: KernelError) {
        let waiter = state.withLock { s -> CheckedContinuation<Event?, any Error>? in
            if s.closed || s.failure != nil { return nil }
            s.failure = error
            gone.store(true, ordering: .releasing)
            s.buffer.removeAll()
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(throwing: error)
    }

    /// Events queued and not yet read.
    var backlog: Int { state.withLock { $0.buffer.count } }

    /// The next event, nil once the reader cancelled.
    func next() async throws -> Event? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Event?, any Error>) in
                let now = state.withLock { s -> SubscriberRead<Event> in
                    if let failure = s.failure { return .failure(failure) }
                    if s.closed || Task.isCancelled {
                        s.closed = true
                        gone.store(true, ordering: .releasing)
                        return .value(nil)
                    }
                    if s.overflowPending {
                        s.overflowPending = false
                        return .value(.overflow)
                    }
                    if let event = s.buffer.popFirst() { return .value(event) }
                    s.waiter = continuation
                    return .wait
                }
                switch now {
                case .value(let event): continuation.resume(returning: event)
                case .failure(let error): continuation.resume(throwing: error)
                case .wait: break
                }
            }
        } onCancel: {
            close()
        }
    }

    /// Closes the subscription (the reader cancelled or dropped the stream).
    func close() {
        let waiter = state.withLock { s -> CheckedContinuation<Event?, any Error>? in
            s.closed = true
            gone.store(true, ordering: .releasing)
            s.buffer.removeAll()
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The stream handed to the caller of `events(in:)`. When the caller
    /// drops the stream without cancelling, the token it captures goes with
    /// it and closes the subscription, as closing a socket would.
    func stream() -> AsyncThrowingStream<Event, any Error> {
        let token = Token(self)
        return AsyncThrowingStream(unfolding: { try await token.subscriber.next() })
    }

    /// Lives exactly as long as the stream's closure.
    private final class Token: Sendable {
        let subscriber: SimSubscriber<Event>
        init(_ subscriber: SimSubscriber<Event>) { self.subscriber = subscriber }
        deinit { subscriber.close() }
    }
}
