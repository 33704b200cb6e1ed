import LinxKernelSim
import LinxReconcile
import SystemPackage
import Testing

@Suite("Change events")
struct EventTests {
    @Test("every change reaches every subscriber of the namespace, in order")
    func delivery() async throws {
        let kernel = SimKernel()
        let first = try await kernel.events(in: .current)
        let second = try await kernel.events(in: .current)
        try kernel.createNamespace(.named("other"))
        let elsewhere = try await kernel.events(in: .named("other"))
        let v0 = try kernel.addLink("v0", up: false)
        let address = addr("10.0.0.2/24", on: v0)
        #expect(await ok(kernel, .addAddress(address)))
        var expected: [RtnlEvent] = [.link(Link(index: v0, name: "v0", kind: "veth", isUp: false), .new), .address(address, .new)]
        // the IPv4 local route is installed even on a down link
        let local = try #require(try kernel.snapshot().routes.first { $0.destination == prefix("10.0.0.2/32") })
        expected.append(.route(local, .new))
        for stream in [first, second] {
            var iterator = stream.makeAsyncIterator()
            for event in expected { #expect(try await iterator.next() == event) }
        }
        // nothing was published in the other namespace: its first event is the one we cause there
        try kernel.addLink("w0", up: false, in: .named("other"))
        var other = elsewhere.makeAsyncIterator()
        guard case .link(let link, .new)? = try await other.next() else { Issue.record("expected a link event"); return }
        #expect(link.name == "w0")
    }

    @Test("a full buffer drops events and reports overflow once, then delivers again (netlink ENOBUFS)")
    func overflow() async throws {
        let kernel = SimKernel(eventBufferCapacity: 4)
        let stream = try await kernel.events(in: .current)
        for i in 0..<10 { try kernel.addLink("d\(i)", up: false) }
        #expect(kernel.eventsLost() == 6)
        var iterator = stream.makeAsyncIterator()
        #expect(try await iterator.next() == .overflow)
        var names: [String] = []
        for _ in 0..<4 {
            if case .link(let link, .new)? = try await iterator.next() { names.append(link.name) }
        }
        #expect(names == ["d0", "d1", "d2", "d3"])
        try kernel.addLink("after", up: false)
        guard case .link(let link, .new)? = try await iterator.next() else { Issue.record("expected a link event"); return }
        #expect(link.name == "after")
    }

    @Test("a dead monitor finishes its stream with the error")
    func death() async throws {
        let kernel = SimKernel()
        let stream = try await kernel.events(in: .current)
        kernel.killMonitors(with: .ioError)
        var iterator = stream.makeAsyncIterator()
        await #expect(throws: KernelError.self) { _ = try await iterator.next() }
        #expect(kernel.faultsFired[.monitorDeath] == 1)
    }

    // The kernel's behaviour, observed on Linux 6.18 by NamespaceLifetimeTests
    // (LinxLinuxTests): a monitor socket keeps its deleted namespace alive
    // and hears nothing from the namespace that takes the name.
    @Test("a deleted namespace lives on, silent, while its monitor is open; the new one of that name is another")
    func monitorPinsDeletedNamespace() async throws {
        let kernel = SimKernel()
        let scope = NetnsScope.named("gone")
        try kernel.createNamespace(scope)
        let old = try #require(kernel.identity(of: scope))
        let monitor = try await kernel.events(in: scope)
        try kernel.deleteNamespace(scope)
        #expect(kernel.identity(of: scope) == nil)
        #expect(kernel.pinnedNamespaces == [old: 1])
        #expect(await errno { () async throws(KernelError) in try await kernel.events(in: scope) } == .noSuchFileOrDirectory)
        try kernel.createNamespace(scope)
        let new = try #require(kernel.identity(of: scope))
        #expect(new != old)
        try kernel.addLink("w0", up: false, in: scope)
        #expect(kernel.queuedEvents(inPinned: old) == 0)
        // Closing the monitor lets the old namespace go.
        let reader = Task {
            var count = 0
            do { for try await _ in monitor { count += 1 } } catch {}
            return count
        }
        reader.cancel()
        #expect(await reader.value == 0)
        #expect(kernel.pinnedNamespaces.isEmpty)
    }

    @Test("a name watch yields each namespace the name names, nil while it names none; current and pid scopes finish")
    func nameWatch() async throws {
        let kernel = SimKernel()
        let scope = NetnsScope.named("w")
        var watch = await kernel.namespaceIdentities(of: scope).makeAsyncIterator()
        #expect(await watch.next() == .some(nil))
        try kernel.createNamespace(scope)
        let first = kernel.identity(of: scope)
        try kernel.deleteNamespace(scope)
        try kernel.createNamespace(scope)
        let second = kernel.identity(of: scope)
        #expect(await watch.next() == .some(first))
        #expect(await watch.next() == .some(nil))
        #expect(await watch.next() == .some(second))
        var current = await kernel.namespaceIdentities(of: .current).makeAsyncIterator()
        #expect(await current.next() == .some(kernel.identity(of: .current)))
        #expect(await current.next() == nil)
        try kernel.createNamespace(.pid(42))
        var pid = await kernel.namespaceIdentities(of: .pid(42)).makeAsyncIterator()
        #expect(await pid.next() == .some(kernel.identity(of: .pid(42))))
        try kernel.deleteNamespace(.pid(42))
        #expect(await pid.next() == .some(nil))
        #expect(await pid.next() == nil)
    }

    @Test("cancelling the reader ends the stream and the kernel forgets the subscriber")
    func cancellation() async throws {
        let kernel = SimKernel()
        let stream = try await kernel.events(in: .current)
        let reader = Task { () -> Int in
            var count = 0
            do { for try await _ in stream { count += 1 } } catch {}
            return count
        }
        reader.cancel()
        #expect(await reader.value == 0)
        // publishing after the reader left costs nothing and loses nothing
        for i in 0..<5 { try kernel.addLink("c\(i)", up: false) }
        #expect(kernel.eventsLost() == 0)
    }

    @Test("dropping a stream without cancelling closes the subscription too")
    func dropped() async throws {
        let kernel = SimKernel(eventBufferCapacity: 2)
        do {
            let stream = try await kernel.events(in: .current)
            _ = stream
        }
        for i in 0..<5 { try kernel.addLink("x\(i)", up: false) }
        #expect(kernel.eventsLost() == 0)
    }
}

@Suite("Change events of a batch")
struct BatchEventTests {
    /// Runs 24 requests through two links under a seeded fault plan that hits
    /// monitors and links, as one batch or one request per call, and returns
    /// what a reader then finds: every event (a sentinel link ends the
    /// stream) or, with a small buffer, how many are queued and lost.
    static func run(seed: UInt64, batched: Bool, capacity: Int) async throws -> (events: [String], queued: Int, lost: Int) {
        let kernel = SimKernel(seed: seed, eventBufferCapacity: capacity)
        let v0 = try kernel.addLink("v0")
        let v1 = try kernel.addLink("v1")
        let stream = try await kernel.events(in: .current)
        kernel.arm(SimFaultPlan(rate: 0.3, kinds: [.overflow, .monitorDeath, .vanish, .eexistRace, .errno, .drift]))
        var requests: [RtnlRequest] = []
        for i in 0..<12 {
            let link = i % 2 == 0 ? v0 : v1
            requests.append(.addAddress(addr("10.\(i).0.1/24", on: link)))
            requests.append(.addRoute(Route(destination: prefix("10.200.\(i).0/24"), gateway: ip("10.\(i).0.2"), proto: 4)))
        }
        if batched {
            _ = await kernel.execute(requests, in: .current, stopOnError: false)
        } else {
            for request in requests { _ = await kernel.execute([request], in: .current, stopOnError: false) }
        }
        kernel.arm(nil)
        let (queued, lost) = (kernel.queuedEvents(), kernel.eventsLost())
        guard capacity > 1000 else { return ([], queued, lost) }
        try kernel.addLink("end", up: false)
        var events: [String] = []
        var iterator = stream.makeAsyncIterator()
        do {
            while let event = try await iterator.next() {
                events.append("\(event)")
                if case .link(let link, .new) = event, link.name == "end" { break }
            }
        } catch {
            events.append("died")
        }
        return (events, queued, lost)
    }

    @Test("a batch's events reach a monitor as one request per call sends them, faults on the monitor included")
    func batchedMatchesOneByOne() async throws {
        for seed in UInt64(1)...24 {
            for capacity in [4, 9, 4096] {
                let batched = try await Self.run(seed: seed, batched: true, capacity: capacity)
                let single = try await Self.run(seed: seed, batched: false, capacity: capacity)
                #expect(batched.events == single.events, "seed \(seed), capacity \(capacity)")
                #expect(batched.queued == single.queued && batched.lost == single.lost, "seed \(seed), capacity \(capacity)")
            }
        }
    }
}
