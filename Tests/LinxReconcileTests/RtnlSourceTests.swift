import LinxKernelSim
import LinxReconcile
import Testing

@Suite("RtnlSource: delegation and monitor hints")
struct RtnlSourceTests {
    func hints(_ source: RtnlSource, _ scope: NetnsScope = .current) async throws -> AsyncThrowingStream<ReconcileHint, any Error> {
        guard case .hints(let stream) = try await source.subscribe(scope: scope) else {
            Issue.record("rtnl has a monitor")
            return AsyncThrowingStream { $0.finish() }
        }
        return stream
    }

    @Test("reconcile and observe delegate to the reconciler")
    func delegates() async throws {
        let kernel = try rtnlHost()
        let source = RtnlSource(backend: kernel)
        let report = try await source.reconcile(scope: .current, desired: rtnlSample, lastApplied: .empty, options: .default)
        #expect(report.converged && report.applied.count == 6)
        let observed = try await source.observe(scope: .current, options: .default)
        #expect(observed.routes.count == 4 && observed.routes.allSatisfy { $0.proto == 76 })
        #expect(observed.addresses.contains { $0.interfaceName == "eth0" && $0.address == ip("10.0.0.2") })
    }

    @Test("a change yields .changed; an overflow yields .resyncNeeded")
    func changedAndOverflow() async throws {
        let kernel = try rtnlHost()
        let source = RtnlSource(backend: kernel)
        var iterator = try await hints(source).makeAsyncIterator()
        try kernel.addLink("eth2")
        #expect(try await iterator.next() == .changed)
        kernel.overflowSubscribers()
        // Events queued before the overflow may come first; the overflow must follow.
        var sawResync = false
        for _ in 0..<16 {
            guard let hint = try await iterator.next() else { break }
            if hint == .resyncNeeded { sawResync = true; break }
        }
        #expect(sawResync)
    }

    @Test("monitor death finishes the hint stream with the error")
    func monitorDeath() async throws {
        let kernel = try rtnlHost()
        let source = RtnlSource(backend: kernel)
        let stream = try await hints(source)
        kernel.killMonitors(with: .ioError)
        await #expect(throws: (any Error).self) {
            for try await _ in stream {}
        }
    }

    @Test("subscribing to a missing namespace is scopeUnavailable")
    func missingScope() async throws {
        let kernel = try rtnlHost()
        await #expect {
            _ = try await RtnlSource(backend: kernel).subscribe(scope: .named("ghost"))
        } throws: { error in
            guard case .scopeUnavailable = error as? ReconcileError else { return false }
            return true
        }
    }
}
