import LinxKernelSim
import LinxReconcile
import Testing

@Suite("rtnl reconciler under injected faults")
struct RtnlFaultTests {
    @Test("fail-fast: an injected error stops the pass after its stage, the later stages are pending, the next pass converges")
    func failFast() async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        kernel.failNext(1, of: .addAddress, with: .ioError)
        let broken = try await reconciler.reconcile(in: .current, desired: rtnlSample)
        #expect(kernel.faultsFired[.errno] == 1)
        #expect(!broken.converged)
        // The first address create fails; the other one, in the same stage,
        // is still attempted; the four route creates (next stage) wait.
        #expect(broken.applied.count == 1 && broken.failed.count == 1 && broken.pending.count == 4)
        #expect(broken.failed[0].error.errno == .ioError && broken.failed[0].op.item.route == nil)
        #expect(broken.planned.count == 6)
        #expect(try kernel.snapshot().routeLines().isEmpty)
        #expect(broken.lastApplied.addresses.count == 1)
        let next = try await reconciler.reconcile(in: .current, desired: rtnlSample, lastApplied: broken.lastApplied)
        #expect(next.converged && next.applied.count == 5)
        let quiet = try await reconciler.reconcile(in: .current, desired: rtnlSample, lastApplied: next.lastApplied)
        #expect(quiet.planned.isEmpty)
    }

    @Test("an interface vanishing between observe and apply leaves a partial report with ENODEV, never a crash")
    func vanishingInterface() async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        kernel.vanishBeforeNextApply("eth1")
        let report = try await reconciler.reconcile(in: .current, desired: rtnlSample)
        #expect(kernel.faultsFired[.vanish] == 1)
        #expect(!report.converged)
        let failure = try #require(report.failed.first)
        #expect(failure.error.errno == .noSuchDevice)
        #expect(failure.op.item.description.contains("eth1"))
        #expect(report.planned.count == 6)
        // eth1's address is not recorded as owned: it is not in the kernel.
        #expect(report.lastApplied.addresses.map(\.interface) == ["eth0"])
        // The next pass cannot resolve eth1: the desired state names a missing interface.
        await #expect(throws: ReconcileError.self) {
            try await reconciler.reconcile(in: .current, desired: rtnlSample, lastApplied: report.lastApplied)
        }
    }

    @Test("EEXIST from a concurrent writer creating the very same address counts as done, but the address is theirs")
    func eexistRace() async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        kernel.raceNextCreates(2)
        let report = try await reconciler.reconcile(in: .current, desired: rtnlSample)
        #expect(kernel.faultsFired[.eexistRace] == 2)
        #expect(report.converged && report.applied.count == 6)
        // Already there means someone else's: not recorded, so never released.
        #expect(report.lastApplied.addresses.isEmpty)
        let released = try await reconciler.reconcile(in: .current, desired: .empty, lastApplied: report.lastApplied)
        #expect(released.planned.allSatisfy { $0.item.route != nil }, "\(released.planned)")
    }

    @Test("a refusal in the middle of a stage: the ops after it still run, reported applied and owned; later stages pending")
    func midBatchRefusal() async throws {
        let kernel = try rtnlHost()
        try kernel.addLink("eth2")
        let reconciler = RtnlReconciler(backend: kernel)
        let desired: RtnlDesiredState = [
            .address("10.0.0.2/24", on: "eth0"), .address("10.1.0.2/24", on: "eth1"), .address("10.2.0.2/24", on: "eth2"),
            .route(to: "10.50.0.0/24", via: "10.0.0.1"),
        ]
        kernel.failMidBatch(with: .permissionDenied)
        let report = try await reconciler.reconcile(in: .current, desired: desired)
        #expect(kernel.faultsFired[.batchRefusal] == 1)
        // The address stage: the second of three refused, the third still added.
        #expect(report.failed.map(\.op.item.description) == ["address 10.1.0.2/24 dev eth1"])
        #expect(report.applied.map(\.item.description) == ["address 10.0.0.2/24 dev eth0", "address 10.2.0.2/24 dev eth2"])
        #expect(report.pending.count == 1 && report.pending[0].item.route != nil)
        #expect(report.lastApplied.addresses.map(\.interface).sorted() == ["eth0", "eth2"])
        #expect(try kernel.snapshot().routeLines().isEmpty, "a pending route was created")
    }

    @Test("a refused route create stops the pass before the route deletes (make-before-break never breaks alone)")
    func refusedCreateKeepsTheDelete() async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        let old: RtnlDesiredState = [.address("10.0.0.2/24", on: "eth0"), .route(to: "10.50.0.0/24", via: "10.0.0.1")]
        let first = try await reconciler.reconcile(in: .current, desired: old)
        #expect(first.converged)
        let moved: RtnlDesiredState = [
            .address("10.0.0.2/24", on: "eth0"), .route(to: "10.50.0.0/24", via: "10.0.0.1", table: 100),
        ]
        kernel.failNext(1, of: .addRoute, with: .networkUnreachable)
        let report = try await reconciler.reconcile(in: .current, desired: moved, lastApplied: first.lastApplied)
        #expect(report.failed.count == 1 && report.pending.count == 1 && report.pending[0].isDelete)
        #expect(try kernel.snapshot().routeLines().contains { $0.contains("10.50.0.0/24") && $0.contains("table 254") }, "the old route was deleted")
    }

    @Test("a route create racing ours, same key and tag, counts as applied; the rest of the batch still goes")
    func routeRace() async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        let addresses: RtnlDesiredState = [.address("10.0.0.2/24", on: "eth0")]
        let first = try await reconciler.reconcile(in: .current, desired: addresses)
        var desired = addresses
        desired.routes = [RtnlRouteEntry(destination: "10.50.0.0/24", gateway: "10.0.0.1"),
                          RtnlRouteEntry(destination: "10.51.0.0/24", gateway: "10.0.0.1")]
        kernel.raceNextCreates(1)
        let report = try await reconciler.reconcile(in: .current, desired: desired, lastApplied: first.lastApplied)
        #expect(kernel.faultsFired[.eexistRace] == 1)
        #expect(report.converged && report.applied.count == 2)
        #expect(try kernel.snapshot().routeLines().count == 2)
    }

    @Test("interrupted dumps are retried, so the pass still sees a whole snapshot")
    func interruptedDumps() async throws {
        let kernel = try rtnlHost()
        kernel.interruptNextDumps(3)
        let report = try await RtnlReconciler(backend: kernel).reconcile(in: .current, desired: rtnlSample)
        #expect(kernel.faultsFired[.interruptedDump] == 3)
        #expect(report.converged)
    }

    @Test("a dump that keeps failing is a pass that could not run, and nothing is applied")
    func dumpFails() async throws {
        let kernel = try rtnlHost()
        kernel.failNext(1, of: .routeDump, with: .noBufferSpace)
        await #expect {
            try await RtnlReconciler(backend: kernel).reconcile(in: .current, desired: rtnlSample)
        } throws: { error in
            guard case .observeFailed(let resource, let kernelError) = error as? ReconcileError else { return false }
            return resource == "routes" && kernelError.errno == .noBufferSpace
        }
        #expect(backendWrites(kernel) == 0)
    }

    @Test("deletes that find the object already gone (ESRCH, EADDRNOTAVAIL) count as applied")
    func alreadyGone() async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        let first = try await reconciler.reconcile(in: .current, desired: rtnlSample)
        let plan = try await reconciler.plan(in: .current, desired: .empty, lastApplied: first.lastApplied)
        // Someone removes a route and an address of ours after the plan was made.
        let victim = try #require(plan.ops.compactMap { $0.item.route }.first)
        try kernel.foreign.deleteRoute(victim)
        let address = try #require(plan.ops.compactMap { $0.item.address }.first { $0.family == .ipv6 })
        try kernel.foreign.deleteAddress(address)
        let report = await reconciler.apply(plan, in: .current)
        #expect(report.converged && report.applied.count == plan.ops.count)
    }
}
