import LinxLinux
import LinxReconcile
import LinxTestSupport
import SystemPackage
import Testing

// Real kernel: needs root for `ip netns add`; skipped (with the reason
// printed) otherwise. Only keys under net. are written, inside the
// throwaway namespace, so the host's values are never changed.
@Suite("sysctl in a namespace", .enabled(if: RealKernel.available, "needs root and iproute2"))
struct SysctlTests {
    let kernel = LinuxKernel()

    @Test func writesLandInTheNamespaceOnly() async throws {
        try await ThrowawayNamespace.with { ns in
            let forward = try SysctlKey("net.ipv4.ip_forward")
            let rpFilter = try SysctlKey("net.ipv4.conf.v0.rp_filter")
            let hostForward = hostSysctl("net/ipv4/ip_forward")
            let target = hostForward == "1" ? "0" : "1"
            try await kernel.write(forward, value: target, in: ns.scope)
            try await kernel.write(rpFilter, value: "2", in: ns.scope)
            #expect(try await kernel.read(forward, in: ns.scope) == target)
            #expect(try await kernel.read(rpFilter, in: ns.scope) == "2")
            #expect(try ns.sysctl("net.ipv4.ip_forward") == target)
            #expect(hostSysctl("net/ipv4/ip_forward") == hostForward, "the host's value must be untouched")
            #expect(try await kernel.read(forward, in: .current) == hostForward)
        }
    }

    @Test func valuesAreReadAsTheKernelPrintsThem() async throws {
        try await ThrowawayNamespace.with { ns in
            let range = try SysctlKey("net.ipv4.ip_local_port_range")
            try await kernel.write(range, value: "40000 50000", in: ns.scope)
            #expect(try await kernel.read(range, in: ns.scope) == "40000\t50000")
        }
    }

    @Test func refusalsCarryErrno() async throws {
        try await ThrowawayNamespace.with { ns in
            let forward = try SysctlKey("net.ipv4.ip_forward")
            let error = await #expect(throws: KernelError.self) {
                try await kernel.write(forward, value: "yes", in: ns.scope)
            }
            #expect(error?.errno == .invalidArgument)
            let missing = await #expect(throws: KernelError.self) {
                try await kernel.read(SysctlKey("net.ipv4.no_such_key"), in: ns.scope)
            }
            #expect(missing?.errno == .noSuchFileOrDirectory)
            // A link that only exists in the namespace is unknown to the host.
            #expect(try await kernel.read(SysctlKey("net.ipv4.conf.v0.forwarding"), in: ns.scope) == "0")
        }
    }

    @Test func keysAreListedRecursivelyAndSorted() async throws {
        try await ThrowawayNamespace.with { ns in
            let keys = try await kernel.keys(under: SysctlKey("net.ipv4.conf.v0"), in: ns.scope)
            #expect(keys.contains(try SysctlKey("net.ipv4.conf.v0.forwarding")))
            #expect(keys == keys.sorted())
            #expect(keys.allSatisfy { $0.hasPrefix(try! SysctlKey("net.ipv4.conf.v0")) })
            let single = try await kernel.keys(under: SysctlKey("net.ipv4.ip_forward"), in: ns.scope)
            #expect(single == [try SysctlKey("net.ipv4.ip_forward")])
        }
    }
}
