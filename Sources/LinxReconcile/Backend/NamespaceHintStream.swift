/// A monitor's hint stream that follows its scope's name (the rtnl and the
/// nftables Sources'): each event is a ``ReconcileHint/changed`` hint, an
/// overflow ``ReconcileHint/resyncNeeded``.
///
/// A kernel monitor belongs to its namespace: deleted, the namespace lives
/// on for the monitor's sake and the monitor hears nothing more, even once
/// the name names a new namespace. So the stream watches the name beside the
/// monitor (``RtnlBackend/namespaceIdentities(of:)``). When the name stops
/// naming the watched namespace, the monitor is closed (releasing that
/// namespace) and ``ReconcileHint/scopeLost(_:)`` is sent; when it names a
/// namespace again, a monitor is opened there and
/// ``ReconcileHint/scopeReplaced`` follows. A name that can never come back
/// (a pid scope whose process exited) ends the stream with the error.
enum NamespaceHintStream<Event: Sendable> {
    /// The name watch's iterator, handed from `subscribe` (which reads the
    /// first identity) to the follower's watcher task, which alone reads it
    /// after that: one reader at a time, never two.
    final class NameWatch: @unchecked Sendable {
        private var iterator: AsyncStream<NamespaceIdentity?>.Iterator

        init(_ stream: AsyncStream<NamespaceIdentity?>) {
            iterator = stream.makeAsyncIterator()
        }

        func next() async -> NamespaceIdentity?? {
            await iterator.next()
        }
    }

    private enum Signal: Sendable {
        case identity(NamespaceIdentity?)
        case namesEnded
        case monitorEnded(generation: Int, error: (any Error)?)
    }

    typealias Hints = AsyncThrowingStream<ReconcileHint, any Error>

    /// Opens the monitor (`open`, mapped to ReconcileError naming
    /// `resource`) in `scope` and follows `identities` (the scope's name
    /// watch) with it.
    static func subscribe(
        scope: NetnsScope, identities: AsyncStream<NamespaceIdentity?>, resource: String,
        isOverflow: @escaping @Sendable (Event) -> Bool,
        open: @escaping @Sendable () async throws(KernelError) -> AsyncThrowingStream<Event, any Error>
    ) async throws(ReconcileError) -> Hints {
        let names = NameWatch(identities)
        let monitor = Monitor(scope: scope, resource: resource, isOverflow: isOverflow, open: open)
        let first = await names.next()
        if case .some(nil) = first {
            throw .scopeUnavailable(scope: scope.description, reason: "the network namespace does not exist")
        }
        let events = try await monitor.open()
        // Hints are level-triggered: when the consumer falls behind, older
        // hints can go, any one left still triggers a full resync. Scope
        // hints are state changes, so `send` never lets one go.
        let (hints, continuation) = Hints.makeStream(bufferingPolicy: .bufferingNewest(64))
        let follower = Task {
            await follow(monitor: monitor, names: names, watching: first ?? nil, events: events, into: continuation)
        }
        continuation.onTermination = { _ in follower.cancel() }
        return hints
    }

    /// How to (re)open the monitor and read its events.
    private struct Monitor: Sendable {
        let scope: NetnsScope
        let resource: String
        let isOverflow: @Sendable (Event) -> Bool
        let openEvents: @Sendable () async throws(KernelError) -> AsyncThrowingStream<Event, any Error>

        init(
            scope: NetnsScope, resource: String, isOverflow: @escaping @Sendable (Event) -> Bool,
            open: @escaping @Sendable () async throws(KernelError) -> AsyncThrowingStream<Event, any Error>
        ) {
            self.scope = scope
            self.resource = resource
            self.isOverflow = isOverflow
            openEvents = open
        }

        func open() async throws(ReconcileError) -> AsyncThrowingStream<Event, any Error> {
            do {
                return try await openEvents()
            } catch where error.errno == .noSuchFileOrDirectory {
                throw .scopeUnavailable(scope: scope.description, reason: "the network namespace does not exist (\(error))")
            } catch {
                throw .observeFailed(resource: resource, error: error)
            }
        }
    }

    /// Queues `hint`; a scope hint pushed out of the full buffer is queued
    /// again (it then pushes out the oldest plain hint), so none is lost and
    /// their order holds.
    private static func send(_ hint: ReconcileHint, to continuation: Hints.Continuation) {
        var next: ReconcileHint? = hint
        while let current = next {
            next = nil
            if case .dropped(let evicted) = continuation.yield(current), isScopeHint(evicted) { next = evicted }
        }
    }

    private static func isScopeHint(_ hint: ReconcileHint) -> Bool {
        switch hint {
        case .changed, .resyncNeeded: false
        case .scopeLost, .scopeReplaced: true
        }
    }

    private static func follow(
        monitor opener: Monitor, names: NameWatch,
        watching first: NamespaceIdentity?, events: AsyncThrowingStream<Event, any Error>,
        into continuation: Hints.Continuation
    ) async {
        let scope = opener.scope
        let (signals, mailbox) = AsyncStream<Signal>.makeStream()
        let watcher = Task {
            while let identity = await names.next() { mailbox.yield(.identity(identity)) }
            mailbox.yield(.namesEnded)
        }
        var generation = 0
        func forward(_ events: AsyncThrowingStream<Event, any Error>) -> Task<Void, Never> {
            generation += 1
            let mine = generation
            return Task {
                do {
                    for try await event in events { send(opener.isOverflow(event) ? .resyncNeeded : .changed, to: continuation) }
                    mailbox.yield(.monitorEnded(generation: mine, error: nil))
                } catch {
                    mailbox.yield(.monitorEnded(generation: mine, error: error))
                }
            }
        }
        // The monitor and the namespace it is open in (nil when the backend cannot tell).
        var monitor: Task<Void, Never>? = forward(events)
        var watched = first
        var namesEnded = false
        defer {
            watcher.cancel()
            monitor?.cancel()
        }
        for await signal in signals {
            switch signal {
            case .monitorEnded(let ended, let error):
                guard ended == generation, monitor != nil else { continue }
                continuation.finish(throwing: error)
                return
            case .namesEnded:
                namesEnded = true
                if monitor == nil {
                    continuation.finish(
                        throwing: ReconcileError.scopeUnavailable(
                            scope: scope.description, reason: "the network namespace is gone and its scope cannot name another"))
                    return
                }
            case .identity(let identity):
                if monitor != nil, identity == watched { continue }
                if monitor == nil, identity == nil { continue }
                if let old = monitor {
                    // Close it before anything else, so the old namespace is let go.
                    old.cancel()
                    await old.value
                    monitor = nil
                    let reason =
                        identity.map { "now names \($0), not \(watched.map { "\($0)" } ?? "the namespace monitored")" }
                        ?? "deleted: names no namespace"
                    send(.scopeLost(.scopeUnavailable(scope: scope.description, reason: reason)), to: continuation)
                }
                watched = nil
                guard identity != nil else { continue }
                do throws(ReconcileError) {
                    let events = try await opener.open()
                    monitor = forward(events)
                    watched = identity
                    send(.scopeReplaced, to: continuation)
                } catch {
                    // Gone again before we got there: the next identity says what next.
                    if case .scopeUnavailable = error, !namesEnded { continue }
                    continuation.finish(throwing: error)
                    return
                }
            }
        }
    }
}
