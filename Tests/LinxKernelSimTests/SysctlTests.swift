import LinxKernelSim
import LinxReconcile
import SystemPackage
import Testing

/// Expected values and errnos below were read on Linux 6.18 in a throwaway
/// `ip netns add` namespace, writing with os.write from Python as root.
@Suite("sysctl")
struct SysctlTests {
    func key(_ text: String) -> SysctlKey { try! SysctlKey(text) }

    @Test("boot defaults as a fresh namespace prints them, vectors tab-separated")
    func defaults() async throws {
        let kernel = SimKernel()
        #expect(try await kernel.read(key("net.ipv4.ip_forward"), in: .current) == "0")
        #expect(try await kernel.read(key("net.ipv4.ip_local_port_range"), in: .current) == "32768\t60999")
        #expect(try await kernel.read(key("net.core.somaxconn"), in: .current) == "4096")
        #expect(try await kernel.read(key("net/ipv4/conf/all/accept_redirects"), in: .current) == "1")
        #expect(try await kernel.read(key("net.ipv6.conf.lo.disable_ipv6"), in: .current) == "0")
    }

    @Test("no range check where the kernel has none; EINVAL for non-numbers; base-0 integers")
    func parsing() async throws {
        let kernel = SimKernel()
        let forward = key("net.ipv4.ip_forward")
        try await kernel.write(forward, value: "5", in: .current)
        #expect(try await kernel.read(forward, in: .current) == "5")
        try await kernel.write(key("net.ipv4.conf.all.rp_filter"), value: "3", in: .current)
        #expect(kernel.sysctlValue("net.ipv4.conf.all.rp_filter") == "3")
        for bad in ["abc", "5abc", "+4", "\n", "2147483648", "99999999999"] {
            #expect(await errno { () async throws(KernelError) in try await kernel.write(forward, value: bad, in: .current) } == .invalidArgument, "\(bad)")
        }
        try await kernel.write(forward, value: "0x10", in: .current)
        #expect(kernel.sysctlValue("net.ipv4.ip_forward") == "16")
        try await kernel.write(forward, value: "010", in: .current)
        #expect(kernel.sysctlValue("net.ipv4.ip_forward") == "8")
        try await kernel.write(forward, value: " 7 \n", in: .current)
        #expect(kernel.sysctlValue("net.ipv4.ip_forward") == "7")
        // An empty value goes out as a newline, as the real backend sends it: EINVAL (Linux 6.18).
        #expect(await errno { () async throws(KernelError) in try await kernel.write(forward, value: "", in: .current) } == .invalidArgument)
        #expect(kernel.sysctlValue("net.ipv4.ip_forward") == "7")
        #expect(await errno { () async throws(KernelError) in try await kernel.write(key("net.core.somaxconn"), value: "-1", in: .current) } == .invalidArgument)
    }

    @Test("ip_local_port_range: tab-separated, a short write keeps the high end, low below 1024 is EINVAL")
    func portRange() async throws {
        let kernel = SimKernel()
        let range = key("net.ipv4.ip_local_port_range")
        try await kernel.write(range, value: "2000 3000", in: .current)
        #expect(kernel.sysctlValue("net.ipv4.ip_local_port_range") == "2000\t3000")
        try await kernel.write(range, value: "2500", in: .current)
        #expect(kernel.sysctlValue("net.ipv4.ip_local_port_range") == "2500\t3000")
        for bad in ["1000 2000", "3000 2000", "2000 70000"] {
            #expect(await errno { () async throws(KernelError) in try await kernel.write(range, value: bad, in: .current) } == .invalidArgument, "\(bad)")
        }
    }

    @Test("ip_unprivileged_port_start and the range's low end are checked against each other, both ways")
    func portStartCoupling() async throws {
        let kernel = SimKernel()
        let range = key("net.ipv4.ip_local_port_range")
        let start = key("net.ipv4.ip_unprivileged_port_start")
        try await kernel.write(range, value: "1046 23567", in: .current)
        #expect(await errno { () async throws(KernelError) in try await kernel.write(start, value: "1417", in: .current) } == .invalidArgument)
        #expect(kernel.sysctlValue("net.ipv4.ip_unprivileged_port_start") == "1024")
        try await kernel.write(start, value: "1046", in: .current)
        #expect(await errno { () async throws(KernelError) in try await kernel.write(range, value: "1045 23567", in: .current) } == .invalidArgument)
        #expect(kernel.sysctlValue("net.ipv4.ip_local_port_range") == "1046\t23567")
    }

    @Test("read-only keys are EACCES, unknown keys ENOENT, directories EISDIR")
    func refusals() async throws {
        let kernel = SimKernel()
        #expect(await errno { () async throws(KernelError) in try await kernel.write(key("fs.dentry-state"), value: "1", in: .current) } == .permissionDenied)
        #expect(await errno { () async throws(KernelError) in try await kernel.write(key("net.ipv4.conf.all.mc_forwarding"), value: "1", in: .current) } == .permissionDenied)
        #expect(await errno { () async throws(KernelError) in try await kernel.read(key("net.nope"), in: .current) } == .noSuchFileOrDirectory)
        #expect(await errno { () async throws(KernelError) in try await kernel.read(key("net.ipv4.conf.eth9.forwarding"), in: .current) } == .noSuchFileOrDirectory)
        #expect(await errno { () async throws(KernelError) in try await kernel.read(key("net.ipv4"), in: .current) } == .isDirectory)
    }

    @Test("per-interface keys appear with the link (copying conf.default) and vanish with it")
    func perInterface() async throws {
        let kernel = SimKernel()
        try kernel.foreign.writeSysctl("net.ipv4.conf.default.rp_filter", "2")
        try kernel.addLink("eth0.100")
        #expect(try await kernel.read(key("net.ipv4.conf.eth0/100.rp_filter"), in: .current) == "2")
        let keys = try await kernel.keys(under: key("net.ipv4.conf.eth0/100"), in: .current)
        #expect(keys.contains(key("net.ipv4.conf.eth0/100.forwarding")))
        #expect(keys == keys.sorted())
        try kernel.removeLink("eth0.100")
        #expect(await errno { () async throws(KernelError) in try await kernel.keys(under: key("net.ipv4.conf.eth0/100"), in: .current) } == .noSuchFileOrDirectory)
    }

    @Test("ip_forward and conf.all.forwarding are one value and set default and every interface")
    func forwardingPropagates() async throws {
        let kernel = SimKernel()
        try kernel.addLink("v0")
        try await kernel.write(key("net.ipv4.ip_forward"), value: "1", in: .current)
        for k in ["net.ipv4.conf.all.forwarding", "net.ipv4.conf.default.forwarding", "net.ipv4.conf.v0.forwarding", "net.ipv4.conf.lo.forwarding"] {
            #expect(kernel.sysctlValue(k) == "1", "\(k)")
        }
        try await kernel.write(key("net.ipv4.conf.v0.forwarding"), value: "0", in: .current)
        #expect(kernel.sysctlValue("net.ipv4.ip_forward") == "1")
    }

    @Test("net. keys are per namespace; other keys are one tree for the machine")
    func namespacing() async throws {
        let kernel = SimKernel()
        try kernel.createNamespace(.named("a"))
        try await kernel.write(key("net.ipv4.ip_forward"), value: "1", in: .named("a"))
        #expect(kernel.sysctlValue("net.ipv4.ip_forward") == "0")
        #expect(kernel.sysctlValue("net.ipv4.ip_forward", in: .named("a")) == "1")
        try await kernel.write(key("vm.swappiness"), value: "10", in: .named("a"))
        #expect(kernel.sysctlValue("vm.swappiness") == "10")
        #expect(await errno { () async throws(KernelError) in try await kernel.write(key("vm.swappiness"), value: "500", in: .current) } == .invalidArgument)
    }

    @Test("disable_ipv6 on a link removes its IPv6 addresses and refuses new ones with EACCES")
    func disableIPv6() async throws {
        let kernel = SimKernel()
        let v0 = try kernel.addLink("v0")
        #expect(try kernel.snapshot().addresses.contains { $0.ifindex == v0 && $0.family == .ipv6 })
        try await kernel.write(key("net.ipv6.conf.v0.disable_ipv6"), value: "1", in: .current)
        #expect(!(try kernel.snapshot().addresses.contains { $0.ifindex == v0 && $0.family == .ipv6 }))
        #expect(await errno(send(kernel, .addAddress(addr("2001:db8::1/64", on: v0)))) == .permissionDenied)
        try await kernel.write(key("net.ipv6.conf.v0.disable_ipv6"), value: "0", in: .current)
        #expect(try kernel.snapshot().addresses.contains { $0.ifindex == v0 && $0.address.isIPv6LinkLocal })
    }

    /// Not writable on the real kernel in a test: a write in any namespace
    /// turns the host's static key on for good. Boot value read on this
    /// machine's kernel right after boot (host and a new namespace: 0); the
    /// rest is nf_hooks_lwtunnel.c's handler.
    @Test("nf_hooks_lwtunnel is the machine's static key: 0 at boot, 0 or 1, never off again once on")
    func staticKey() async throws {
        let kernel = SimKernel()
        let lwtunnel = key("net.netfilter.nf_hooks_lwtunnel")
        #expect(SimKernel.machineWideSysctls == [lwtunnel])
        #expect(try await kernel.read(lwtunnel, in: .current) == "0")
        try await kernel.write(lwtunnel, value: "0", in: .current)
        #expect(await errno { () async throws(KernelError) in try await kernel.write(lwtunnel, value: "2", in: .current) } == .invalidArgument)
        try await kernel.write(lwtunnel, value: "1", in: .current)
        try await kernel.write(lwtunnel, value: "1", in: .current)
        #expect(await errno { () async throws(KernelError) in try await kernel.write(lwtunnel, value: "0", in: .current) } == .resourceBusy)
        #expect(try await kernel.read(lwtunnel, in: .current) == "1")
    }

    /// nf_hooks_lwtunnel.c: the handler prints and sets one static key for
    /// the whole machine, whichever namespace's file is used. Not checked
    /// by writing on this machine (it would turn the host's key on for
    /// good); read on this kernel: the host and a new namespace both 0.
    @Test("nf_hooks_lwtunnel is one value for every namespace of the machine, until a reboot")
    func staticKeyIsMachineWide() async throws {
        let kernel = SimKernel()
        let lwtunnel = key("net.netfilter.nf_hooks_lwtunnel")
        let before = NetnsScope.named("before"), after = NetnsScope.named("after")
        try kernel.createNamespace(before)
        try await kernel.write(lwtunnel, value: "1", in: before)
        #expect(try await kernel.read(lwtunnel, in: .current) == "1")
        try kernel.createNamespace(after)
        #expect(try await kernel.read(lwtunnel, in: after) == "1")
        #expect(await errno { () async throws(KernelError) in try await kernel.write(lwtunnel, value: "0", in: after) } == .resourceBusy)
        kernel.reboot()
        for scope in [NetnsScope.current, before, after] { #expect(try await kernel.read(lwtunnel, in: scope) == "0") }
    }
}
