import LinxKernelSim
import LinxReconcile
import Testing

/// The loop follows a named namespace across deletion and re-creation, on
/// the simulated kernel (which keeps a deleted namespace alive and silent
/// while a monitor is open in it, as the kernel does). The same scenario runs
/// on the real kernel in LinxLinuxTests (NamespaceLifetimeTests).
@Suite("ReconcileLoop across a namespace's lifetime (simulated kernel)", .timeLimit(.minutes(1)))
struct LoopNamespaceLifetimeTests {
    typealias RtnlLoop = ReconcileLoop<RtnlSource, VirtualClock>
    static let scope = NetnsScope.named("pod")
    static let network: RtnlDesiredState = [
        .address("10.0.0.2/24", on: "v0"),
        .route(to: "10.50.0.0/16", via: "10.0.0.254"),
    ]

    /// `ip netns add` plus the pod's interface, as a container runtime would.
    func createPod(_ kernel: SimKernel) throws {
        try kernel.createNamespace(Self.scope)
        try kernel.addLink("v0", in: Self.scope)
    }

    func converged(_ kernel: SimKernel, _ loop: RtnlLoop) async throws -> Bool {
        try await RtnlReconciler(backend: kernel).plan(
            in: Self.scope, desired: Self.network, lastApplied: loop.lastApplied
        ).isEmpty
    }

    func ownedRoute(_ kernel: SimKernel) throws -> Route? {
        let prefix = try IPPrefix("10.50.0.0/16")
        return try kernel.snapshot(of: Self.scope).routes.first { $0.proto == RouteProtocol.linx && $0.destination == prefix }
    }

    func loop(_ kernel: SimKernel, _ clock: VirtualClock) -> RtnlLoop {
        ReconcileLoop(
            source: RtnlSource(backend: kernel), scope: Self.scope, desired: Self.network, options: RtnlOptions(),
            lastApplied: .empty, configuration: toyConfiguration(interval: .never), clock: clock)
    }

    @Test("deleted and re-created at once: the monitor moves, the new namespace converges at once, drift is healed by hints, the old one is released")
    func recreated() async throws {
        let kernel = SimKernel(seed: 3)
        try createPod(kernel)
        let clock = VirtualClock()
        let loop = loop(kernel, clock)
        let log = EventLog(loop.events)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            #expect(try await converged(kernel, loop))
            let old = try #require(kernel.identity(of: Self.scope))
            try kernel.deleteNamespace(Self.scope)
            try createPod(kernel)
            #expect(kernel.identity(of: Self.scope) != old)
            // No clock advance: the name change is noticed and resynced at once.
            await loop.waitUntil { $0.monitorLosses == 1 && $0.monitorUp && $0.isIdle }
            #expect(try await converged(kernel, loop))
            #expect(kernel.pinnedNamespaces.isEmpty, "the old namespace is still held: \(kernel.pinnedNamespaces)")
            #expect(await loop.health.monitor == .up)
            // Drift in the new namespace, healed by its monitor (no timer: interval .never).
            let hints = await loop.probe.hintsReceived
            try kernel.foreign.deleteRoute(try #require(try ownedRoute(kernel)), in: Self.scope)
            await loop.waitUntil { $0.hintsReceived > hints && $0.isIdle }
            #expect(try ownedRoute(kernel) == nil)
            await clock.advance(by: .milliseconds(100), settling: loop)
            #expect(try ownedRoute(kernel) != nil)
            #expect(try await converged(kernel, loop))
        }
        let events = await log.all
        #expect(events.filter(\.isMonitorLost).count == 1)
        #expect(events.filter(\.isMonitorResubscribed).count == 1)
    }

    @Test("deleted, then re-created later: monitor lost, passes fail and back off, the re-creation is followed at once despite the backoff")
    func goneThenBack() async throws {
        let kernel = SimKernel(seed: 4)
        try createPod(kernel)
        let clock = VirtualClock()
        let loop = loop(kernel, clock)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            try kernel.deleteNamespace(Self.scope)
            await loop.waitUntil { $0.monitorLosses == 1 && !$0.monitorUp && $0.failures >= 1 && $0.isIdle }
            let down = await loop.health
            #expect(down.monitor == .down)
            guard case .failed(.scopeUnavailable)? = down.lastPass?.outcome else {
                Issue.record("expected the pass to find the scope gone, got \(String(describing: down.lastPass))")
                return
            }
            #expect(kernel.pinnedNamespaces.isEmpty)
            // Let the backoff grow, so an un-asked retry is far away.
            await clock.advance(by: .seconds(1), settling: loop)
            let passes = await loop.probe.passesCompleted
            #expect(await loop.health.nextRetry != nil)
            try createPod(kernel)
            await loop.waitUntil { $0.monitorUp && $0.passesCompleted > passes && $0.isIdle }
            #expect(try await converged(kernel, loop))
            #expect(await loop.health.converged)
        }
    }

    @Test("a /proc/PID/ns/net path ends with its process, as the pid scope does: monitor lost, passes fail, the name is not watched on")
    func processPathEndsWithTheProcess() async throws {
        let kernel = SimKernel(seed: 5)
        // A process's namespace: the simulator's `.pid` namespace, which
        // deleting ends as the process's exit does.
        let process = NetnsScope.pid(4242)
        let scope = NetnsScope.path("/proc/4242/ns/net")
        try kernel.createNamespace(process)
        try kernel.addLink("v0", in: process)
        var identities = await kernel.namespaceIdentities(of: scope).makeAsyncIterator()
        #expect(await identities.next() == .some(kernel.identity(of: process)))
        let clock = VirtualClock()
        let loop = ReconcileLoop(
            source: RtnlSource(backend: kernel), scope: scope, desired: Self.network, options: RtnlOptions(),
            lastApplied: .empty, configuration: toyConfiguration(interval: .never), clock: clock)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            #expect(try await RtnlReconciler(backend: kernel).plan(
                in: process, desired: Self.network, lastApplied: loop.lastApplied).isEmpty)
            try kernel.deleteNamespace(process)
            // No clock advance: the exit is noticed at once.
            await loop.waitUntil { $0.monitorLosses == 1 && !$0.monitorUp && $0.failures >= 1 && $0.isIdle }
            let down = await loop.health
            #expect(down.monitor == .down)
            guard case .failed(.scopeUnavailable)? = down.lastPass?.outcome else {
                Issue.record("expected the pass to find the process gone, got \(String(describing: down.lastPass))")
                return
            }
            #expect(kernel.pinnedNamespaces.isEmpty, "the process's namespace is still held: \(kernel.pinnedNamespaces)")
        }
        // The watch of the path ended with the process, as a pid watch does.
        #expect(await identities.next() == .some(nil))
        #expect(await identities.next() == nil)
    }
}
