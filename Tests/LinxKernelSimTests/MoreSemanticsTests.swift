import LinxKernelSim
import LinxReconcile
import SystemPackage
import Testing

@Suite("More kernel semantics")
struct MoreSemanticsTests {
    func key(_ text: String) -> SysctlKey { try! SysctlKey(text) }

    @Test("gateway checks: the named device must reach it; other tables fall back to main; link-local needs a device")
    func gatewayChecks() async throws {
        let kernel = SimKernel()
        let (v0, v1) = try kernel.addVethPair("v0", "v1")
        #expect(await ok(kernel, .addAddress(addr("10.0.0.2/24", on: v0))))
        #expect(await errno(send(kernel, .addRoute(Route(destination: prefix("10.1.0.0/24"), gateway: ip("10.0.0.1"), ifindex: v1)))) == .networkUnreachable)
        #expect(await ok(kernel, .addRoute(Route(destination: prefix("10.1.0.0/24"), gateway: ip("10.0.0.1"), table: 100))))
        #expect(await errno(send(kernel, .addRoute(Route(destination: prefix("2001:db8::/64"), gateway: ip("fe80::1"))))) == .invalidArgument)
        // A local route needs scope host ("Invalid scope") and a device (Linux 6.18).
        #expect(await errno(send(kernel, .addRoute(Route(destination: prefix("10.7.0.0/24"), type: .local)))) == .invalidArgument)
        #expect(await errno(send(kernel, .addRoute(Route(destination: prefix("10.7.0.0/24"), scope: 254, type: .local)))) == .noSuchDevice)
        // a scope-link device route makes its range reachable (observed: 10.0.0.0/8 dev v0 scope link
        // let `via 10.9.0.1 dev v0` in)
        #expect(await ok(kernel, .addRoute(Route(destination: prefix("172.16.0.0/16"), ifindex: v1, scope: 253))))
        #expect(await ok(kernel, .addRoute(Route(destination: prefix("10.2.0.0/24"), gateway: ip("172.16.0.9")))))
        #expect(try kernel.snapshot().routes.first { $0.destination == prefix("10.2.0.0/24") }?.ifindex == v1)
    }

    @Test("fe80::/64 is one key: when its link goes, another up link takes it back")
    func sharedLinkLocalRoute() async throws {
        let kernel = SimKernel()
        let a = try kernel.addLink("a")
        let b = try kernel.addLink("b")
        let owner = { try kernel.snapshot().routes.first { $0.destination == prefix("fe80::/64") }?.ifindex }
        #expect(try owner() == a)
        try kernel.removeLink("a")
        #expect(try owner() == b)
        try kernel.setLink("b", up: false)
        #expect(try owner() == nil)
    }

    @Test("IPv6 conf.all.forwarding and disable_ipv6 set default and every interface")
    func ipv6AllKeys() async throws {
        let kernel = SimKernel()
        let v0 = try kernel.addLink("v0")
        try await kernel.write(key("net.ipv6.conf.all.forwarding"), value: "1", in: .current)
        #expect(kernel.sysctlValue("net.ipv6.conf.v0.forwarding") == "1")
        #expect(kernel.sysctlValue("net.ipv6.conf.default.forwarding") == "1")
        try await kernel.write(key("net.ipv6.conf.all.disable_ipv6"), value: "1", in: .current)
        #expect(kernel.sysctlValue("net.ipv6.conf.lo.disable_ipv6") == "1")
        #expect(!(try kernel.snapshot().addresses.contains { $0.family == .ipv6 }))
        try kernel.addLink("v1")  // inherits default
        #expect(kernel.sysctlValue("net.ipv6.conf.v1.disable_ipv6") == "1")
        _ = v0
    }

    @Test("ping_group_range: an inverted range stores the 1 0 default (Linux 6.18); global keys list")
    func oddKeys() async throws {
        let kernel = SimKernel()
        try await kernel.write(key("net.ipv4.ping_group_range"), value: "0 2147483647", in: .current)
        #expect(kernel.sysctlValue("net.ipv4.ping_group_range") == "0\t2147483647")
        try await kernel.write(key("net.ipv4.ping_group_range"), value: "5 1", in: .current)
        #expect(kernel.sysctlValue("net.ipv4.ping_group_range") == "1\t0")
        let kernelKeys = try await kernel.keys(under: key("kernel"), in: .current)
        #expect(kernelKeys.contains(key("kernel.pid_max")) && kernelKeys.allSatisfy { $0.components.first == "kernel" })
        #expect(await errno { () async throws(KernelError) in try await kernel.write(key("kernel.osrelease"), value: "x", in: .current) } == .permissionDenied)
    }

    @Test("cgroup core files: max.depth parses base 0 and refuses negatives with ERANGE (Linux 6.18); subtree_control tokens")
    func cgroupCore() async throws {
        let kernel = SimKernel()
        let cg = "/sys/fs/cgroup/core"
        try kernel.createCgroup(cg)
        try await kernel.write("cgroup.max.descendants", value: "0x10", in: cg)
        #expect(kernel.cgroupValue("cgroup.max.descendants", in: cg) == "16")
        #expect(await errno { () async throws(KernelError) in try await kernel.write("cgroup.max.depth", value: "-1", in: cg) } == .outOfRange)
        #expect(await errno { () async throws(KernelError) in try await kernel.write("cgroup.max.depth", value: "abc", in: cg) } == .invalidArgument)
        try await kernel.write("cgroup.subtree_control", value: "+memory +pids", in: cg)
        try await kernel.write("cgroup.subtree_control", value: "-pids", in: cg)
        #expect(kernel.cgroupValue("cgroup.subtree_control", in: cg) == "memory")
        #expect(await errno { () async throws(KernelError) in try await kernel.write("cgroup.subtree_control", value: "+gpu", in: cg) } == .invalidArgument)
        // a huge size is max
        try await kernel.write("memory.max", value: "9000000E", in: cg)
        #expect(kernel.cgroupValue("memory.max", in: cg) == "max")
    }

    @Test("the history names who did what and how it ended")
    func history() async throws {
        let kernel = SimKernel()
        let v0 = try kernel.addLink("v0")
        #expect(await ok(kernel, .addAddress(addr("10.0.0.2/24", on: v0))))
        try kernel.foreign.addRoute(Route(destination: prefix("10.1.0.0/24"), gateway: ip("10.0.0.1")))
        kernel.failNext(1, of: .routeDump, with: .noMemory)
        _ = try? await kernel.routes(in: .current, matching: .all)
        let lines = kernel.history.map(\.description)
        #expect(lines[0].hasPrefix("1 admin [current netns] link add v0"))
        #expect(lines.contains { $0.contains("backend [current netns] addr add 10.0.0.2/24 #2") && $0.hasSuffix("-> ok") })
        #expect(lines.contains { $0.contains("foreign [current netns] route add 10.1.0.0/24") })
        #expect(lines.contains { $0.contains("fault [current netns] errno routeDump ENOMEM") })
        #expect(lines.last?.hasSuffix("dump routeDump -> ENOMEM") == true)
        kernel.recordsHistory = false
        _ = try await kernel.links(in: .current)
        #expect(kernel.history.count == lines.count)
    }

    @Test("clearFaults disarms everything and keeps the counts; reboot tells subscribers to resync")
    func clearAndReboot() async throws {
        let kernel = SimKernel()
        kernel.failNext(1, of: .linkDump, with: .noMemory)
        #expect(await errno { () async throws(KernelError) in try await kernel.links(in: .current) } == .noMemory)
        kernel.failFraction(1, of: .linkDump, with: .noMemory)
        kernel.interruptNextDumps(3)
        kernel.clearFaults()
        #expect(try await kernel.links(in: .current).count == 1)
        #expect(kernel.faultsFired == [.errno: 1])
        let stream = try await kernel.events(in: .current)
        kernel.reboot()
        var iterator = stream.makeAsyncIterator()
        #expect(try await iterator.next() == .overflow)
    }

    @Test("eventBufferCapacity applies to subscriptions made afterwards")
    func capacity() async throws {
        let kernel = SimKernel()
        kernel.eventBufferCapacity = 2
        let stream = try await kernel.events(in: .current)
        for i in 0..<5 { try kernel.addLink("e\(i)", up: false) }
        #expect(kernel.eventsLost() == 3)
        withExtendedLifetime(stream) {}
    }

    @Test("MTU limits as Linux 6.18 applies them: under 68 refused, under 1280 no IPv6 on the link")
    func mtu() async throws {
        let kernel = SimKernel()
        #expect(await errno { () throws(KernelError) in try kernel.addLink("tiny", mtu: 60) } == .invalidArgument)
        let small = try kernel.addLink("small", mtu: 1000)
        #expect(kernel.sysctlValue("net.ipv6.conf.small.disable_ipv6") == nil)
        #expect(kernel.sysctlValue("net.ipv4.conf.small.forwarding") == "0")
        #expect(await errno(send(kernel, .addAddress(addr("fc00::1/64", on: small)))) == .invalidArgument)
        #expect(await ok(kernel, .addAddress(addr("10.0.0.1/24", on: small))))
        #expect(!(try kernel.snapshot().addresses.contains { $0.ifindex == small && $0.family == .ipv6 }))
    }
}
