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

    @Test("a dead monitor finishes its stream with the error; a deleted namespace kills its monitors")
    func death() async throws {
        let kernel = SimKernel()
        let stream = try await kernel.events(in: .current)
        kernel.killMonitors(with: .ioError)
        var iterator = stream.makeAsyncIterator()
        await #expect(throws: KernelError.self) { _ = try await iterator.next() }
        #expect(kernel.faultsFired[.monitorDeath] == 1)
        try kernel.createNamespace(.named("gone"))
        let doomed = try await kernel.events(in: .named("gone"))
        try kernel.deleteNamespace(.named("gone"))
        var it = doomed.makeAsyncIterator()
        do {
            _ = try await it.next()
            Issue.record("stream should have failed")
        } catch let error as KernelError {
            #expect(error.errno == .noSuchFileOrDirectory)
        }
        #expect(await errno { () async throws(KernelError) in try await kernel.events(in: .named("gone")) } == .noSuchFileOrDirectory)
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
