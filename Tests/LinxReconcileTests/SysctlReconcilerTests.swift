import LinxKernelSim
import LinxReconcile
import Testing

/// Writes the reconciler made through the backend (foreign and admin writes excluded).
func backendWrites(_ kernel: SimKernel) -> Int {
    kernel.history.count { entry in
        guard entry.actor == .backend else { return false }
        switch entry.action {
        case .request, .sysctlWrite: return true
        case .cgroup(let op, _, _, _): return op == .cgroupWrite
        default: return false
        }
    }
}

@Suite("sysctl reconciler on the simulated kernel")
struct SysctlReconcilerTests {
    let desired: SysctlDesiredState = [
        "net.ipv4.ip_forward": 1,
        "net/ipv4/conf/all/rp_filter": 2,
        "net.ipv4.ip_local_port_range": "20000   40000",
        "net.core.somaxconn": 8192,
    ]

    @Test("the first pass writes what differs, values compare as printed, and a second pass is a no-op")
    func convergesThenNoOp() async throws {
        let kernel = SimKernel(seed: 1)
        let reconciler = SysctlReconciler(backend: kernel)
        let first = try await reconciler.reconcile(in: .current, desired: desired)
        #expect(first.converged && first.strategy == .bestEffort && first.applied.count == 4)
        #expect(kernel.sysctlValue("net.ipv4.ip_local_port_range") == "20000\t40000")
        #expect(kernel.sysctlValue("net.ipv4.conf.all.rp_filter") == "2")
        #expect(first.lastApplied.owned[try SysctlKey("net.ipv4.ip_forward")] == "0")
        let second = try await reconciler.reconcile(in: .current, desired: desired, lastApplied: first.lastApplied)
        #expect(second.planned.isEmpty && second.lastApplied == first.lastApplied)
    }

    @Test("revertOnRelease writes back the value found before the first write; without it only ownership goes")
    func revertOnRelease() async throws {
        let kernel = SimKernel(seed: 1)
        let reconciler = SysctlReconciler(backend: kernel)
        try kernel.foreign.writeSysctl("net.core.somaxconn", "1000")
        let first = try await reconciler.reconcile(in: .current, desired: desired)
        // A second write while owned must not overwrite the recorded original.
        var raised = desired
        raised["net.core.somaxconn"] = 9000
        let second = try await reconciler.reconcile(in: .current, desired: raised, lastApplied: first.lastApplied)
        #expect(kernel.sysctlValue("net.core.somaxconn") == "9000")

        var released = raised
        released["net.core.somaxconn"] = nil
        released["net.ipv4.ip_forward"] = nil
        let revert = try await reconciler.reconcile(
            in: .current, desired: released, lastApplied: second.lastApplied, options: .init(revertOnRelease: true))
        #expect(revert.converged && revert.applied.count == 2 && revert.applied.allSatisfy(\.isDelete))
        #expect(kernel.sysctlValue("net.core.somaxconn") == "1000")
        #expect(kernel.sysctlValue("net.ipv4.ip_forward") == "0")
        #expect(revert.lastApplied.owned.count == 2)

        let drop = try await reconciler.reconcile(in: .current, desired: .empty, lastApplied: revert.lastApplied)
        #expect(drop.lastApplied == .empty)
        #expect(kernel.sysctlValue("net.ipv4.conf.all.rp_filter") == "2")
    }

    @Test("keys we do not own are never written, also when the desired state is emptied; drift on ours is healed")
    func foreignAndDrift() async throws {
        let kernel = SimKernel(seed: 1)
        let reconciler = SysctlReconciler(backend: kernel)
        let first = try await reconciler.reconcile(in: .current, desired: desired)
        try kernel.foreign.writeSysctl("net.ipv4.tcp_fin_timeout", "30")
        try kernel.foreign.writeSysctl("net.ipv4.ip_forward", "0")
        let heal = try await reconciler.reconcile(in: .current, desired: desired, lastApplied: first.lastApplied)
        #expect(heal.applied.map(\.description) == ["~ net.ipv4.ip_forward = 0 -> net.ipv4.ip_forward = 1"])
        let writes = backendWrites(kernel)
        let emptied = try await reconciler.reconcile(
            in: .current, desired: .empty, lastApplied: .empty, options: .init(revertOnRelease: true))
        #expect(emptied.planned.isEmpty && backendWrites(kernel) == writes)
        #expect(kernel.sysctlValue("net.ipv4.tcp_fin_timeout") == "30")
    }

    @Test("best-effort: a value the kernel refuses fails alone, everything else is applied, nothing pending")
    func bestEffort() async throws {
        let kernel = SimKernel(seed: 1)
        let reconciler = SysctlReconciler(backend: kernel)
        var bad = desired
        bad["net.ipv4.ip_default_ttl"] = 999
        bad["net.ipv4.tcp_syncookies"] = "yes"
        let report = try await reconciler.reconcile(in: .current, desired: bad)
        #expect(!report.converged && report.pending.isEmpty)
        #expect(report.failed.map { "\($0.op.item.key)" }.sorted() == ["net.ipv4.ip_default_ttl", "net.ipv4.tcp_syncookies"])
        #expect(report.failed.allSatisfy { $0.error.errno == .invalidArgument })
        #expect(report.applied.count == 4)
        #expect(kernel.sysctlValue("net.ipv4.ip_forward") == "1")
        #expect(report.lastApplied.owned[try SysctlKey("net.ipv4.ip_default_ttl")] == nil)
    }

    @Test("invalid desired states are rejected and nothing is written", arguments: [
        SysctlDesiredState(["net.ipv4.ip_forward": 1, "net.ipv4.no_such_key": 1]),
        SysctlDesiredState(["net.ipv4.ip_forward": 1, "net/../kernel/panic": 1]),
        SysctlDesiredState(["net.ipv4.ip_forward": 1, "/proc/sys/net/ipv4/ip_forward": 1]),
        SysctlDesiredState(["net.ipv4.ip_forward": 1, "net/ipv4/ip_forward": 0]),
    ])
    func invalidRejected(desired: SysctlDesiredState) async throws {
        let kernel = SimKernel(seed: 1)
        await #expect(throws: ReconcileError.self) {
            try await SysctlReconciler(backend: kernel).reconcile(in: .current, desired: desired)
        }
        #expect(backendWrites(kernel) == 0)
        #expect(kernel.sysctlValue("net.ipv4.ip_forward") == "0")
    }

    @Test("from another netns, a host-wide key is refused unless allowed; net keys act in that netns only")
    func otherNamespace() async throws {
        let kernel = SimKernel(seed: 1)
        try kernel.createNamespace(.named("c1"))
        let reconciler = SysctlReconciler(backend: kernel)
        await #expect(throws: ReconcileError.self) {
            try await reconciler.reconcile(in: .named("c1"), desired: ["net.ipv4.ip_forward": 1, "vm.swappiness": 10])
        }
        #expect(kernel.sysctlValue("vm.swappiness") == "60")
        let report = try await reconciler.reconcile(in: .named("c1"), desired: ["net.ipv4.ip_forward": 1])
        #expect(report.converged)
        #expect(kernel.sysctlValue("net.ipv4.ip_forward", in: .named("c1")) == "1")
        #expect(kernel.sysctlValue("net.ipv4.ip_forward") == "0")
        await #expect {
            try await reconciler.reconcile(in: .named("ghost"), desired: ["net.ipv4.ip_forward": 1])
        } throws: { error in
            guard case .scopeUnavailable = error as? ReconcileError else { return false }
            return true
        }
    }

    @Test("an owned per-interface key that vanished with its link is dropped without failing the pass")
    func vanishedKey() async throws {
        let kernel = SimKernel(seed: 1)
        try kernel.addLink("eth0.100")
        let reconciler = SysctlReconciler(backend: kernel)
        let first = try await reconciler.reconcile(in: .current, desired: ["net.ipv4.conf.eth0/100.forwarding": 1])
        #expect(first.converged && kernel.sysctlValue("net/ipv4/conf/eth0.100/forwarding") == "1")
        try kernel.removeLink("eth0.100")
        let release = try await reconciler.reconcile(
            in: .current, desired: .empty, lastApplied: first.lastApplied, options: .init(revertOnRelease: true))
        #expect(release.converged && release.planned.isEmpty && release.lastApplied == .empty)
    }

    @Test("the Source delegates and says it has no monitor")
    func source() async throws {
        let kernel = SimKernel(seed: 1)
        let source = SysctlSource(backend: kernel)
        let report = try await source.reconcile(scope: .current, desired: desired, lastApplied: .empty, options: .default)
        #expect(report.converged)
        guard case .unsupported = try await source.subscribe(scope: .current) else {
            Issue.record("sysctl has no monitor")
            return
        }
        let observed = try await source.observe(scope: .current, options: .default)
        #expect(observed[try SysctlKey("net.ipv4.ip_forward")] == "1")
    }

    @Test("best-effort under injected write errors: each failure reported, everything else applied, next pass converges")
    func injectedWriteErrors() async throws {
        let kernel = SimKernel(seed: 1)
        let reconciler = SysctlReconciler(backend: kernel)
        kernel.failNext(1, of: .sysctlWrite, with: .permissionDenied)
        let report = try await reconciler.reconcile(in: .current, desired: desired)
        #expect(kernel.faultsFired[.errno] == 1)
        #expect(report.failed.count == 1 && report.applied.count == 3 && report.pending.isEmpty)
        #expect(report.lastApplied.owned.count == 3)
        let next = try await reconciler.reconcile(in: .current, desired: desired, lastApplied: report.lastApplied)
        #expect(next.converged && next.applied.count == 1 && next.lastApplied.owned.count == 4)
    }

    @Test("a port start above the desired range's low end is refused up front; a feasible pair lands in one pass either way")
    func portStartAndRange() async throws {
        let kernel = SimKernel(seed: 1)
        let reconciler = SysctlReconciler(backend: kernel)
        let impossible: SysctlDesiredState = ["net.ipv4.ip_unprivileged_port_start": 1417, "net.ipv4.ip_local_port_range": "1046 23567"]
        let error = await #expect(throws: ReconcileError.self) {
            try await reconciler.reconcile(in: .current, desired: impossible)
        }
        guard case .invalidDesired(let entry, let reason, _)? = error else {
            Issue.record("expected invalidDesired, got \(String(describing: error))")
            return
        }
        #expect(entry == "sysctl net.ipv4.ip_unprivileged_port_start" && reason.contains("1046"))
        #expect(backendWrites(kernel) == 0)

        // Raising the start past the current low end needs the range written first ...
        let raised = try await reconciler.reconcile(
            in: .current, desired: ["net.ipv4.ip_unprivileged_port_start": 2000, "net.ipv4.ip_local_port_range": "3000 4000"])
        #expect(raised.converged && raised.failed.isEmpty)
        // ... lowering both needs the start written first (the default order writes the range first).
        let lowered = try await reconciler.reconcile(
            in: .current, desired: ["net.ipv4.ip_unprivileged_port_start": 500, "net.ipv4.ip_local_port_range": "1100 4000"],
            lastApplied: raised.lastApplied)
        #expect(lowered.converged && lowered.failed.isEmpty)
        #expect(kernel.sysctlValue("net.ipv4.ip_unprivileged_port_start") == "500")
        #expect(kernel.sysctlValue("net.ipv4.ip_local_port_range") == "1100\t4000")
    }

    @Test("a release's write-back of one of the port pair and the other's new value land in one pass, in either order")
    func portPairReleaseAndUpdateOrder() async throws {
        let kernel = SimKernel(seed: 1)
        let reconciler = SysctlReconciler(backend: kernel)
        let options = SysctlOptions(revertOnRelease: true)
        let first = try await reconciler.reconcile(
            in: .current, desired: ["net.ipv4.ip_unprivileged_port_start": 1000, "net.ipv4.ip_local_port_range": "1475 11654"],
            options: options)
        #expect(first.converged)
        // Found by `linx conformance --seeds 100` (sysctl seed 56): the range is released (its boot value
        // 32768 comes back) while the start rises to 1482, above the range's current low end. The plan lists
        // the start's update before the range's release, and the start was written first: EINVAL.
        let raised = try await reconciler.reconcile(
            in: .current, desired: ["net.ipv4.ip_unprivileged_port_start": 1482], lastApplied: first.lastApplied,
            options: options)
        #expect(raised.converged && raised.failed.isEmpty, "\(raised.failed)")
        #expect(kernel.sysctlValue("net.ipv4.ip_local_port_range") == "32768\t60999")
        #expect(kernel.sysctlValue("net.ipv4.ip_unprivileged_port_start") == "1482")
        // The mirror: the start is released (back to 1024) while the range drops below the start it holds.
        let second = try await reconciler.reconcile(
            in: .current, desired: ["net.ipv4.ip_unprivileged_port_start": 2000, "net.ipv4.ip_local_port_range": "3000 4000"],
            lastApplied: raised.lastApplied, options: options)
        #expect(second.converged)
        let lowered = try await reconciler.reconcile(
            in: .current, desired: ["net.ipv4.ip_local_port_range": "1500 4000"], lastApplied: second.lastApplied,
            options: options)
        #expect(lowered.converged && lowered.failed.isEmpty, "\(lowered.failed)")
        #expect(kernel.sysctlValue("net.ipv4.ip_unprivileged_port_start") == "1024")
        #expect(kernel.sysctlValue("net.ipv4.ip_local_port_range") == "1500\t4000")
    }

    @Test("a release never writes back a port range (or start) the kernel would refuse next to the desired partner")
    func impossibleRevertIsDropped() async throws {
        let kernel = SimKernel(seed: 1)
        let reconciler = SysctlReconciler(backend: kernel)
        let options = SysctlOptions(revertOnRelease: true)
        try kernel.foreign.writeSysctl("net.ipv4.ip_local_port_range", "1054 27044")
        let first = try await reconciler.reconcile(
            in: .current, desired: ["net.ipv4.ip_unprivileged_port_start": 1384, "net.ipv4.ip_local_port_range": "15936 44812"],
            options: options)
        #expect(first.converged)
        // Found by fuzzing (seed=1943838204771697842): the range is released while the start rises to 1626;
        // its original 1054 is below 1626, so writing it back would be EINVAL on every pass.
        let writes = backendWrites(kernel)
        let released = try await reconciler.reconcile(
            in: .current, desired: ["net.ipv4.ip_unprivileged_port_start": 1626], lastApplied: first.lastApplied,
            options: options)
        #expect(released.converged && released.failed.isEmpty, "\(released.failed)")
        #expect(released.applied.contains { $0.isDelete && $0.item.key.description == "net.ipv4.ip_local_port_range" })
        #expect(kernel.sysctlValue("net.ipv4.ip_local_port_range") == "15936\t44812")
        #expect(kernel.sysctlValue("net.ipv4.ip_unprivileged_port_start") == "1626")
        #expect(backendWrites(kernel) == writes + 1, "only the start is written")
        #expect(released.lastApplied.owned[try SysctlKey("net.ipv4.ip_local_port_range")] == nil)
        // A write-back the partner allows still happens.
        let back = try await reconciler.reconcile(in: .current, desired: .empty, lastApplied: released.lastApplied, options: options)
        #expect(back.converged)
        #expect(kernel.sysctlValue("net.ipv4.ip_unprivileged_port_start") == "1024")
    }
}
