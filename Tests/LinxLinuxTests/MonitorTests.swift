import Glibc
import LinxLinux
import LinxReconcile
import LinxTestSupport
import Synchronization
import Testing

/// Collects a monitor's events on a background task, each with the time it
/// came out of the stream, so tests can wait for one with a deadline
/// (polling, never a fixed sleep) and check how late it came.
final class EventRecorder<Event: Sendable>: Sendable {
    private final class Log: Sendable {
        let events = Mutex<[(event: Event, at: ContinuousClock.Instant)]>([])
    }

    private let log = Log()
    private let reader: Task<Void, Never>

    init(_ stream: AsyncThrowingStream<Event, any Error>) {
        let log = self.log
        // On its own thread: see ThreadExecutor.
        reader = Task(executorPreference: ThreadExecutor.shared) {
            do {
                for try await event in stream {
                    let now = ContinuousClock.now
                    log.events.withLock { $0.append((event, now)) }
                }
            } catch {}
        }
    }

    /// Whether an event matching `predicate` arrives (or has arrived) within `budget`.
    func sees(within budget: Duration, _ predicate: @escaping @Sendable (Event) -> Bool) async -> Bool {
        await RealKernel.poll(for: budget) { self.log.events.withLock { $0.contains { predicate($0.event) } } }
    }

    /// How many events matching `predicate` came so far.
    func count(_ predicate: (Event) -> Bool) -> Int {
        log.events.withLock { $0.filter { predicate($0.event) }.count }
    }

    /// How long after `start` the first event matching `predicate` came out
    /// of the stream (negative if before), waiting up to `wait` for it; nil
    /// when it never came.
    func latency(
        since start: ContinuousClock.Instant, waiting wait: Duration = .seconds(2),
        _ predicate: @escaping @Sendable (Event) -> Bool
    ) async -> Duration? {
        func arrival() -> ContinuousClock.Instant? {
            log.events.withLock { $0.first { predicate($0.event) }?.at }
        }
        _ = await RealKernel.poll(for: wait) { arrival() != nil }
        return arrival().map { $0 - start }
    }

    func stop() { reader.cancel() }
}

// Real kernel: needs root for `ip netns add`; skipped (with the reason
// printed) otherwise.
@Suite("rtnetlink monitor", .enabled(if: RealKernel.available, "needs root and iproute2"))
struct MonitorTests {
    @Test func seesAnIpChangeWithin100ms() async throws {
        try await ThrowawayNamespace.with { ns in
            let kernel = LinuxKernel()
            let recorder = EventRecorder(try await kernel.events(in: ns.scope))
            defer { recorder.stop() }
            let v0 = try ns.index(of: "v0")
            let wanted = InterfaceAddress.Key(ifindex: v0, address: address("10.0.0.2"), prefixLength: 24)

            // Each change's latency counts from when `ip` returned (the kernel
            // had made the change) to when the event came out of the stream.
            let budget = Duration.milliseconds(100)
            try ns.ip("addr", "add", "10.0.0.2/24", "dev", "v0")
            var changed = ContinuousClock.now
            let added = await recorder.latency(since: changed) {
                if case .address(let address, .new) = $0 { return address.key == wanted }
                return false
            }
            #expect(added.map { $0 <= budget } == true, "address add reported after \(String(describing: added))")

            try ns.ip("route", "add", "10.1.0.0/24", "via", "10.0.0.1", "proto", "76")
            changed = ContinuousClock.now
            let route = await recorder.latency(since: changed) {
                if case .route(let route, .new) = $0 { return route.destination == prefix("10.1.0.0/24") && route.proto == 76 }
                return false
            }
            #expect(route.map { $0 <= budget } == true, "route add reported after \(String(describing: route))")

            try ns.ip("link", "set", "br0", "down")
            changed = ContinuousClock.now
            let link = await recorder.latency(since: changed) {
                if case .link(let link, .new) = $0 { return link.name == "br0" && !link.isUp }
                return false
            }
            #expect(link.map { $0 <= budget } == true, "link change reported after \(String(describing: link))")

            try ns.ip("addr", "del", "10.0.0.2/24", "dev", "v0")
            changed = ContinuousClock.now
            let deleted = await recorder.latency(since: changed) {
                if case .address(let address, .deleted) = $0 { return address.key == wanted }
                return false
            }
            #expect(deleted.map { $0 <= budget } == true, "address delete reported after \(String(describing: deleted))")
        }
    }

    @Test func overflowYieldsResyncSignal() async throws {
        try await ThrowawayNamespace.with { ns in
            let kernel = LinuxKernel(configuration: .init(monitorReceiveBuffer: 4096))
            let events = try await kernel.events(in: ns.scope)
            // Nobody reads while 500 routes change: the tiny buffer must overflow.
            try ns.ip("addr", "add", "10.0.0.2/24", "dev", "v0")
            try ns.batch((0..<500).map { "route add 10.2.\($0 / 250).\($0 % 250)/32 via 10.0.0.1" })
            let recorder = EventRecorder(events)
            defer { recorder.stop() }
            #expect(await recorder.sees(within: .seconds(2)) { $0 == .overflow })
            // The monitor keeps working after an overflow.
            try ns.ip("link", "set", "br0", "down")
            #expect(await recorder.sees(within: .seconds(2)) {
                if case .link(let link, .new) = $0 { return link.name == "br0" && !link.isUp }
                return false
            })
        }
    }

    @Test func cancellingTheConsumerEndsTheStream() async throws {
        try await ThrowawayNamespace.with { ns in
            let events = try await LinuxKernel().events(in: ns.scope)
            let consumer = Task {
                var count = 0
                for try await _ in events { count += 1 }
                return count
            }
            try await Task.sleep(for: .milliseconds(20))
            consumer.cancel()
            // Returns at all only if the waiting read was woken by the cancellation.
            _ = try await consumer.value
        }
    }

    @Test func thousandMonitorsLeakNoDescriptors() async throws {
        try await ThrowawayNamespace.with { ns in
            let kernel = LinuxKernel()
            // Warm up: the namespace thread, its socket and the poller exist from here on.
            _ = try await kernel.links(in: ns.scope)
            do {
                let events = try await kernel.events(in: ns.scope)
                try ns.ip("link", "set", "br0", "down")
                for try await _ in events { break }
            }
            let before = (fds: entries(in: "/proc/self/fd"), threads: entries(in: "/proc/self/task"))
            for round in 0..<1000 {
                let events = try await kernel.events(in: ns.scope)
                if round % 100 == 0 {
                    // Some are iterated (and so registered with the poller) before being dropped.
                    try ns.ip("link", "set", "br0", round % 200 == 0 ? "up" : "down")
                    for try await _ in events { break }
                }
            }
            // Other suites run in parallel in this process and open and close
            // their own descriptors, so the count is compared with a margin far
            // below the thousand a leak would add.
            let fds = entries(in: "/proc/self/fd"), threads = entries(in: "/proc/self/task")
            #expect(fds - before.fds < 64, "\(fds - before.fds) descriptors more after 1000 monitors")
            #expect(threads - before.threads < 16, "\(threads - before.threads) threads more after 1000 monitors")
        }
    }

    /// Entries in a /proc/self directory (fds, threads); the directory's own
    /// fd cancels out between two counts.
    private func entries(in path: String) -> Int {
        guard let directory = opendir(path) else { return -1 }
        defer { closedir(directory) }
        var count = 0
        while readdir(directory) != nil { count += 1 }
        return count
    }
}
