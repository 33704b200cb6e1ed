import LinxKernelSim
import LinxReconcile
import Testing

@Suite("cgroup reconciler on the simulated kernel")
struct CgroupReconcilerTests {
    let web = "/sys/fs/cgroup/web"
    let desired: CgroupDesiredState = [
        "memory.max": .integer(1_000_000),
        "memory.high": "64M",
        "pids.max": 100,
        "cpu.max": .cpuMax(quota: 50_000, period: 100_000),
        "cpu.weight": 200,
    ]

    func host() throws -> SimKernel {
        let kernel = SimKernel(seed: 1)
        try kernel.createCgroup(web)
        return kernel
    }

    @Test("values converge as the kernel stores them (memory rounded to pages): the second pass is a no-op")
    func convergesThenNoOp() async throws {
        let kernel = try host()
        let reconciler = CgroupReconciler(backend: kernel)
        let first = try await reconciler.reconcile(in: web, desired: desired)
        #expect(first.converged && first.strategy == .bestEffort && first.applied.count == 5)
        #expect(kernel.cgroupValue("memory.max", in: web) == "999424")
        #expect(kernel.cgroupValue("memory.high", in: web) == "67108864")
        #expect(kernel.cgroupValue("cpu.max", in: web) == "50000 100000")
        #expect(first.lastApplied.files == Set(desired.files.keys))
        let second = try await reconciler.reconcile(in: web, desired: desired, lastApplied: first.lastApplied)
        #expect(second.planned.isEmpty && second.lastApplied == first.lastApplied)
    }

    @Test("releasing writes the known defaults back; a foreign file is never touched")
    func releaseDefaults() async throws {
        let kernel = try host()
        let reconciler = CgroupReconciler(backend: kernel)
        let first = try await reconciler.reconcile(in: web, desired: desired)
        try kernel.foreign.writeCgroup("memory.low", "1M", in: web)
        let release = try await reconciler.reconcile(in: web, desired: .empty, lastApplied: first.lastApplied)
        #expect(release.converged && release.applied.count == 5 && release.lastApplied == .empty)
        #expect(kernel.cgroupValue("memory.max", in: web) == "max")
        #expect(kernel.cgroupValue("memory.high", in: web) == "max")
        #expect(kernel.cgroupValue("pids.max", in: web) == "max")
        #expect(kernel.cgroupValue("cpu.max", in: web) == "max 100000")
        #expect(kernel.cgroupValue("cpu.weight", in: web) == "100")
        #expect(kernel.cgroupValue("memory.low", in: web) == "1048576")
    }

    @Test("drift on an owned file is healed; lastApplied lost deletes nothing")
    func driftAndLostRecord() async throws {
        let kernel = try host()
        let reconciler = CgroupReconciler(backend: kernel)
        let first = try await reconciler.reconcile(in: web, desired: desired)
        try kernel.foreign.writeCgroup("pids.max", "7", in: web)
        let heal = try await reconciler.reconcile(in: web, desired: desired, lastApplied: first.lastApplied)
        #expect(heal.applied.map(\.description) == ["~ pids.max = 7 -> pids.max = 100"])
        let writes = backendWrites(kernel)
        let lost = try await reconciler.reconcile(in: web, desired: .empty, lastApplied: .empty)
        #expect(lost.planned.isEmpty && backendWrites(kernel) == writes)
        #expect(kernel.cgroupValue("pids.max", in: web) == "100")
    }

    @Test("best-effort: a refused value fails alone, the rest is applied, nothing pending")
    func bestEffort() async throws {
        let kernel = try host()
        var bad = desired
        bad["cpu.weight"] = 0
        bad["pids.max"] = .raw("lots")
        let report = try await CgroupReconciler(backend: kernel).reconcile(in: web, desired: bad)
        #expect(!report.converged && report.pending.isEmpty)
        #expect(report.failed.map(\.op.item.file).sorted() == ["cpu.weight", "pids.max"])
        #expect(report.applied.count == 3)
        #expect(kernel.cgroupValue("memory.max", in: web) == "999424")
        #expect(!report.lastApplied.files.contains("pids.max"))
    }

    @Test("bad file names and files the cgroup lacks are invalid; nothing is written", arguments: [
        CgroupDesiredState(["pids.max": 10, "../pids.max": 10]),
        CgroupDesiredState(["pids.max": 10, "child/pids.max": 10]),
        CgroupDesiredState(["pids.max": 10, "hugetlb.2MB.max": 10]),
    ])
    func invalidRejected(desired: CgroupDesiredState) async throws {
        let kernel = try host()
        await #expect {
            try await CgroupReconciler(backend: kernel).reconcile(in: web, desired: desired)
        } throws: { error in
            guard case .invalidDesired = error as? ReconcileError else { return false }
            return true
        }
        #expect(backendWrites(kernel) == 0 && kernel.cgroupValue("pids.max", in: web) == "max")
    }

    @Test("a missing cgroup, a file, or a relative path is a pass that could not run",
          arguments: ["/sys/fs/cgroup/ghost", "/sys/fs/cgroup/web/memory.max", "sys/fs/cgroup/web", "/sys/fs/cgroup/../web"])
    func badScope(scope: String) async throws {
        let kernel = try host()
        await #expect {
            try await CgroupReconciler(backend: kernel).reconcile(in: scope, desired: ["pids.max": 10])
        } throws: { error in
            guard case .scopeUnavailable = error as? ReconcileError else { return false }
            return true
        }
        #expect(backendWrites(kernel) == 0)
    }

    @Test("the Source delegates and says it has no monitor")
    func source() async throws {
        let kernel = try host()
        let source = CgroupSource(backend: kernel)
        let report = try await source.reconcile(scope: web, desired: desired, lastApplied: .empty, options: .default)
        #expect(report.converged)
        guard case .unsupported = try await source.subscribe(scope: web) else {
            Issue.record("cgroup has no monitor")
            return
        }
        #expect(try await source.observe(scope: web, options: .default)["pids.max"] == "100")
    }

    @Test("best-effort under injected write errors: each failure reported, everything else applied, next pass converges")
    func injectedWriteErrors() async throws {
        let kernel = try host()
        let reconciler = CgroupReconciler(backend: kernel)
        kernel.failNext(2, of: .cgroupWrite, with: .resourceBusy)
        let report = try await reconciler.reconcile(in: web, desired: desired)
        #expect(kernel.faultsFired[.errno] == 2)
        #expect(report.failed.count == 2 && report.applied.count == 3 && report.pending.isEmpty)
        #expect(report.failed.allSatisfy { $0.error.errno == .resourceBusy })
        let next = try await reconciler.reconcile(in: web, desired: desired, lastApplied: report.lastApplied)
        #expect(next.converged && next.applied.count == 2)
    }
}
