import LinxLinux
import LinxReconcile
import LinxTestSupport
import Testing

// Real kernel: the sysctl reconciler in a throwaway namespace (net. keys
// only, so the host is never written) and the cgroup reconciler on throwaway
// cgroups. Needs root; skipped (with the reason printed) otherwise.
@Suite("sysctl and cgroup reconcilers on the real kernel", .enabled(if: RealKernel.available, "needs root and iproute2"))
struct SysctlCgroupReconcilerKernelTests {
    let kernel = LinuxKernel()

    func sysctl(_ ns: ThrowawayNamespace, _ key: String) -> String {
        (try? ns.sysctl(key)) ?? "unreadable"
    }

    @Test func sysctlConvergesHealsAndLeavesForeignKeys() async throws {
        try await ThrowawayNamespace.with { ns in
            let reconciler = SysctlReconciler(backend: kernel)
            let desired: SysctlDesiredState = [
                "net.ipv4.ip_forward": 1,
                "net.ipv4.conf.v0.rp_filter": 2,
                "net.ipv4.ip_local_port_range": "40000 50000",
            ]
            let hostForward = hostSysctl("net/ipv4/ip_forward")
            try ns.setSysctl("net.ipv4.conf.v1.rp_filter", "1")

            let first = try await reconciler.reconcile(in: ns.scope, desired: desired)
            #expect(first.converged && first.applied.count == 3, "\(first.failed)")
            #expect(sysctl(ns, "net.ipv4.ip_forward") == "1")
            #expect(sysctl(ns, "net.ipv4.ip_local_port_range") == "40000\t50000")
            let second = try await reconciler.reconcile(in: ns.scope, desired: desired, lastApplied: first.lastApplied)
            #expect(second.converged && second.planned.isEmpty, "\(second.planned)")

            try ns.setSysctl("net.ipv4.conf.v0.rp_filter", "0")
            let healed = try await reconciler.reconcile(in: ns.scope, desired: desired, lastApplied: second.lastApplied)
            #expect(healed.converged && healed.applied.count == 1)
            #expect(sysctl(ns, "net.ipv4.conf.v0.rp_filter") == "2")
            #expect(sysctl(ns, "net.ipv4.conf.v1.rp_filter") == "1", "a key not desired is not touched")
            #expect(hostSysctl("net/ipv4/ip_forward") == hostForward, "the host's value is untouched")
        }
    }

    @Test func sysctlInvalidInputChangesNothing() async throws {
        try await ThrowawayNamespace.with { ns in
            let reconciler = SysctlReconciler(backend: kernel)
            let before = (sysctl(ns, "net.ipv4.ip_forward"), hostSysctl("kernel/pid_max"))
            for invalid: SysctlDesiredState in [
                ["net.ipv4.ip_forward": 1, "kernel.pid_max": 4_000_000],  // host-wide key from another netns
                ["net.ipv4.ip_forward": 1, "net/../../kernel/pid_max": 1],
                ["net.ipv4.ip_forward": 1, "": 1],
            ] {
                let error = await #expect(throws: ReconcileError.self) {
                    try await reconciler.reconcile(in: ns.scope, desired: invalid)
                }
                if case .invalidDesired = error {} else { Issue.record("expected invalidDesired, got \(String(describing: error))") }
            }
            #expect((sysctl(ns, "net.ipv4.ip_forward"), hostSysctl("kernel/pid_max")) == before)
        }
    }

    @Test func cgroupConvergesOnWhatThisMachineHas() async throws {
        try await ThrowawayCgroup.with { cgroup in
            let reconciler = CgroupReconciler(backend: kernel)
            let cases: [(String?, CgroupDesiredState, String, String)] = [
                (cgroup.unified, ["cgroup.max.depth": 3, "cgroup.max.descendants": 10], "cgroup.max.depth", "5"),
                (cgroup.pids, ["pids.max": 100], "pids.max", "50"),
                (cgroup.memory, ["memory.limit_in_bytes": 1_000_000], "memory.limit_in_bytes", "2000000"),
            ]
            for (directory, desired, driftFile, driftValue) in cases {
                let directory = try #require(directory, "hierarchy missing for \(desired)")
                let first = try await reconciler.reconcile(in: directory, desired: desired)
                #expect(first.converged && first.applied.count == desired.files.count, "\(directory): \(first.failed)")
                let second = try await reconciler.reconcile(in: directory, desired: desired, lastApplied: first.lastApplied)
                #expect(second.converged && second.planned.isEmpty, "\(directory): rounding must not flap: \(second.planned)")
                try await kernel.write(driftFile, value: driftValue, in: directory)
                let healed = try await reconciler.reconcile(in: directory, desired: desired, lastApplied: second.lastApplied)
                #expect(healed.converged && healed.applied.count == 1, "\(directory): \(healed.planned)")
            }
            #expect(try await kernel.read("memory.limit_in_bytes", in: cgroup.memory!) == "999424")
            #expect(try await kernel.read("pids.max", in: cgroup.pids!) == "100")
        }
    }

    @Test func cgroupInvalidInputChangesNothing() async throws {
        try await ThrowawayCgroup.with { cgroup in
            let reconciler = CgroupReconciler(backend: kernel)
            let pids = try #require(cgroup.pids)
            try await kernel.write("pids.max", value: "77", in: pids)
            for invalid: CgroupDesiredState in [
                ["pids.max": 5, "../pids.max": 1],
                ["pids.max": 5, "memory.limit_in_bytes": 4096],  // not a controller of this v1 hierarchy
                ["pids.max": 5, "pids.nothing": 1],
            ] {
                let error = await #expect(throws: ReconcileError.self) {
                    try await reconciler.reconcile(in: pids, desired: invalid)
                }
                if case .invalidDesired = error {} else { Issue.record("expected invalidDesired, got \(String(describing: error))") }
            }
            #expect(try await kernel.read("pids.max", in: pids) == "77")
        }
    }
}
