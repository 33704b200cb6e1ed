import LinxKernelSim
import LinxReconcile
import Testing

/// Values and files the kernel would not take as given, and owned entries
/// that a release would write outside the scope, are refused before
/// anything is written (issue 11, findings 6, 9 and 10).
@Suite("ownership guards: sysctl values, cgroup files, releases")
struct OwnershipGuardTests {
    @Test(
        "a sysctl value the kernel would cut, reinterpret or ignore is refused, naming the key and why",
        arguments: [
            ("1\n0", "line break followed by more text"),
            ("reno\ncubic", "line break followed by more text"),
            ("1\u{0}", "NUL"),
            ("1\r", "carriage return"),
            ("1\u{1}", "control character U+1"),
            ("0x10", "read by the kernel as 16"),
            ("010", "read by the kernel as 8"),
            ("32768 0x10", "read by the kernel as 16"),
            ("", "empty value"),
            (" \n", "empty value"),
        ])
    func sysctlValueRefused(value: String, reason: String) async throws {
        let kernel = SimKernel(seed: 1)
        let error = await #expect(throws: ReconcileError.self) {
            try await SysctlReconciler(backend: kernel).reconcile(in: .current, desired: ["net.ipv4.ip_forward": .string(value)])
        }
        #expect(error?.description.contains("sysctl net.ipv4.ip_forward") == true, "\(String(describing: error))")
        #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
        #expect(backendWrites(kernel) == 0)
    }

    @Test("trailing whitespace and a trailing line break, which the kernel ignores, are accepted and converge")
    func trailingWhitespaceConverges() async throws {
        let kernel = SimKernel(seed: 1)
        let reconciler = SysctlReconciler(backend: kernel)
        let desired: SysctlDesiredState = ["net.ipv4.ip_forward": "1 \n", "net.ipv4.ip_local_port_range": "20000 40000\n"]
        let first = try await reconciler.reconcile(in: .current, desired: desired)
        #expect(first.converged && first.applied.count == 2)
        let second = try await reconciler.reconcile(in: .current, desired: desired, lastApplied: first.lastApplied)
        #expect(second.planned.isEmpty, "\(second.planned)")
    }

    @Test("several fields for a key that holds one integer are refused when planning (the kernel keeps only the first)")
    func severalFieldsForAScalar() async throws {
        let kernel = SimKernel(seed: 1)
        let error = await #expect(throws: ReconcileError.self) {
            try await SysctlReconciler(backend: kernel).plan(in: .current, desired: ["net.ipv4.ip_forward": "1 0"])
        }
        #expect(error?.description.contains("holds one integer") == true, "\(String(describing: error))")
        // A vector key takes several.
        _ = try await SysctlReconciler(backend: kernel).plan(in: .current, desired: ["net.ipv4.ip_local_port_range": "20000 40000"])
    }

    @Test("an owned host-wide key is not released from another namespace: the host's value is never written")
    func hostWideRelease() async throws {
        let kernel = SimKernel(seed: 1)
        try kernel.createNamespace(.named("c1"))
        let owned = SysctlLastApplied(owned: [try SysctlKey("vm.swappiness"): "10"])
        let error = await #expect(throws: ReconcileError.self) {
            try await SysctlReconciler(backend: kernel).reconcile(
                in: .named("c1"), desired: [:], lastApplied: owned, options: SysctlOptions(revertOnRelease: true))
        }
        #expect(error?.description.contains("vm.swappiness (owned, to be released)") == true, "\(String(describing: error))")
        #expect(error?.description.contains("would change the whole host") == true)
        #expect(kernel.sysctlValue("vm.swappiness") == "60")
        #expect(backendWrites(kernel) == 0)
        // In the host's own namespace the same release is fine.
        let report = try await SysctlReconciler(backend: kernel).reconcile(
            in: .current, desired: [:], lastApplied: owned, options: SysctlOptions(revertOnRelease: true))
        #expect(report.converged && kernel.sysctlValue("vm.swappiness") == "10")
    }

    @Test(
        "process-control and state files of a cgroup are refused by name",
        arguments: ["cgroup.procs", "cgroup.threads", "cgroup.freeze", "cgroup.kill", "cgroup.subtree_control", "cgroup.type",
                    "cgroup.pressure", "memory.reclaim", "memory.pressure", "tasks", "release_agent", "notify_on_release"])
    func cgroupControlFileRefused(file: String) async throws {
        let kernel = SimKernel(seed: 1)
        try kernel.createCgroup("/sys/fs/cgroup/web")
        let before = kernel.cgroupValue("cgroup.freeze", in: "/sys/fs/cgroup/web")
        let error = await #expect(throws: ReconcileError.self) {
            try await CgroupReconciler(backend: kernel).reconcile(in: "/sys/fs/cgroup/web", desired: ["pids.max": 5, file: 1])
        }
        #expect(error?.description.contains("cgroup file \"\(file)\"") == true, "\(String(describing: error))")
        #expect(error?.description.contains("not a limit") == true, "\(String(describing: error))")
        #expect(backendWrites(kernel) == 0)
        #expect(kernel.cgroupValue("cgroup.freeze", in: "/sys/fs/cgroup/web") == before)
    }

    @Test("limit files, weights and protections are managed", arguments: [
        "cgroup.max.depth", "cgroup.max.descendants", "memory.max", "memory.high", "memory.low", "memory.min",
        "memory.swap.max", "pids.max", "cpu.max", "cpu.weight", "io.max", "memory.limit_in_bytes", "hugetlb.2MB.max",
        "hugetlb.1GB.rsvd.max", "rdma.max", "misc.max",
    ])
    func cgroupLimitAccepted(file: String) throws {
        #expect(try CgroupReconciler.validate([file: 1])[file] == "1")
    }

    @Test("an owned cgroup file outside the allow-list, or outside the cgroup, is not released")
    func cgroupRelease() async throws {
        let kernel = SimKernel(seed: 1)
        try kernel.createCgroup("/sys/fs/cgroup/web")
        for owned in ["cgroup.freeze", "../cgroup.max.depth", "cgroup.procs"] {
            let error = await #expect(throws: ReconcileError.self) {
                try await CgroupReconciler(backend: kernel).reconcile(
                    in: "/sys/fs/cgroup/web", desired: ["pids.max": 5], lastApplied: CgroupLastApplied(files: [owned]))
            }
            #expect(error?.description.contains("\(owned)\" (owned, to be released)") == true, "\(String(describing: error))")
        }
        #expect(backendWrites(kernel) == 0)
    }
}
