import Foundation
import LinxFidelity
import LinxKernelSim
import LinxLinux
import LinxReconcile
import Testing

/// The simulator divergences issue 12 lists, one named case each. Every
/// case asserts on the simulator what this machine's kernel (Linux 6.18)
/// was seen to do, and, as root, runs the same steps through the
/// differential check against the real kernel in a throwaway namespace.
@Suite("Known divergences, fixed")
struct KnownDivergenceTests {
    static let root = getuid() == 0

    func address(_ text: String, _ dev: String) -> InterfaceAddress {
        let parts = text.split(separator: "/")
        return InterfaceAddress(ifindex: 0, address: try! IPAddress(String(parts[0])), prefixLength: Int(parts[1])!, interfaceName: dev)
    }

    func route(
        _ destination: String, via gateway: String? = nil, dev: String? = nil, table: UInt32 = RouteTable.main,
        metric: UInt32 = 0, proto: UInt8 = RouteProtocol.linx, type: RouteType = .unicast
    ) -> Route {
        let scope: UInt8 = destination.contains(":") ? 0 : (type == .local ? 254 : (gateway == nil && type == .unicast ? 253 : 0))
        return Route(
            destination: try! IPPrefix(destination), gateway: gateway.map { try! IPAddress($0) }, table: table,
            metric: metric, proto: proto, scope: scope, type: type, interfaceName: dev)
    }

    func sysctl(_ key: String, _ value: String) -> FidelityStep { .sysctl(try! SysctlKey(key), value) }

    /// Runs `steps` on a fresh simulated side; returns each outcome and the state after.
    func onSim(_ steps: [FidelityStep], sysctls: [String] = []) async throws -> (outcomes: [String], state: FidelityState) {
        let sim = try SimFidelityKernel(seed: 1)
        var outcomes: [String] = []
        for step in steps { outcomes.append(await FidelityCheck.apply(step, on: sim)) }
        let state = try await FidelityState.read(sim.backend, in: sim.scope, sysctls: sysctls.map { try SysctlKey($0) })
        return (outcomes, state)
    }

    /// As root: the same steps on the simulator and the real kernel, no divergence.
    func againstKernel(_ steps: [FidelityStep]) async throws {
        guard Self.root else { return }
        let check = FidelityCheck(sysctlKeys: [])
        let kernel = LinuxKernel()
        let real = try LinuxFidelityKernel(backend: kernel)
        defer { real.close() }
        let divergence = try await check.run(steps, sim: try SimFidelityKernel(seed: 1), kernel: real, wholeTree: false)
        #expect(divergence == nil, "\(divergence.map(\.description) ?? "")")
    }

    @Test("1: no ::1/128 route in table main, only the local one")
    func loopbackIPv6() async throws {
        let (_, state) = try await onSim([])
        #expect(state.routes.filter { $0.contains("::1 ") } == ["local ::1 table 255 proto 2 scope 0 metric 0 dev lo"])
        try await againstKernel([])
    }

    @Test("2: IPv6 forwarding adds subnet-router anycast and fe80:: routes in table local; off removes them")
    func anycast() async throws {
        let on: [FidelityStep] = [
            .rtnl(.addAddress(address("2001:db8:5::7/64", "v0"))), .rtnl(.addAddress(address("2001:db8:6::7/127", "v0"))),
            sysctl("net.ipv6.conf.all.forwarding", "1"),
        ]
        let (_, state) = try await onSim(on)
        let anycast = state.routes.filter { $0.hasPrefix("anycast") }
        #expect(anycast.contains("anycast 2001:db8:5:: table 255 proto 2 scope 0 metric 0 dev v0"))
        #expect(anycast.contains("anycast fe80:: table 255 proto 2 scope 0 metric 0 dev v0"))
        #expect(!anycast.contains { $0.contains("2001:db8:6::") }, "a /127 has no subnet-router anycast")
        let off = on + [sysctl("net.ipv6.conf.v0.forwarding", "0")]
        let (_, after) = try await onSim(off)
        #expect(!after.routes.contains { $0.hasPrefix("anycast") && $0.hasSuffix("dev v0") })
        try await againstKernel(off)
    }

    @Test("3: conf.default reaches a link only until it has had an IPv4 address (lo coming up counts)")
    func defaultCopy() async throws {
        let steps: [FidelityStep] = [
            sysctl("net.ipv4.conf.default.rp_filter", "2"),
            .rtnl(.addAddress(address("10.9.0.1/24", "v0"))), .rtnl(.deleteAddress(address("10.9.0.1/24", "v0"))),
            sysctl("net.ipv4.conf.default.rp_filter", "1"),
        ]
        let (_, state) = try await onSim(steps, sysctls: ["net.ipv4.conf.v0.rp_filter", "net.ipv4.conf.v1.rp_filter", "net.ipv4.conf.lo.rp_filter"])
        #expect(state.sysctls["net.ipv4.conf.v0.rp_filter"] == "2")
        #expect(state.sysctls["net.ipv4.conf.v1.rp_filter"] == "1")
        #expect(state.sysctls["net.ipv4.conf.lo.rp_filter"] == "0", "lo came up (127.0.0.1) before any default write")
        try await againstKernel(steps)
    }

    @Test("4: ip_unprivileged_port_start above the low end of ip_local_port_range is EINVAL")
    func unprivilegedPorts() async throws {
        let steps = [
            sysctl("net.ipv4.ip_unprivileged_port_start", "32769"), sysctl("net.ipv4.ip_unprivileged_port_start", "32768"),
        ]
        let (outcomes, _) = try await onSim(steps)
        #expect(outcomes[0].hasPrefix("EINVAL"))
        #expect(outcomes[1] == "ok")
        try await againstKernel(steps)
    }

    @Test("6: a route through a link with IPv6 disabled is EACCES")
    func disabledIPv6Route() async throws {
        let steps: [FidelityStep] = [
            sysctl("net.ipv6.conf.v1.disable_ipv6", "1"), .rtnl(.addRoute(route("2001:db8:9::/64", dev: "v1"))),
            .rtnl(.addRoute(route("2001:db8:9::/64", via: "fe80::1", dev: "v1"))),
        ]
        let (outcomes, _) = try await onSim(steps)
        #expect(outcomes[1] == "EACCES \"IPv6 is disabled on nexthop device\"")
        #expect(outcomes[2] == "EACCES \"IPv6 is disabled on nexthop device\"")
        try await againstKernel(steps)
    }

    @Test("7: whitespace as procfs reads it; an empty value (sent as a newline) is EINVAL")
    func sysctlWhitespace() async throws {
        let steps = [
            sysctl("net.ipv4.ip_local_port_range", "40000 \r50000"), sysctl("net.ipv4.ip_forward", "\r1"),
            sysctl("net.ipv4.ip_forward", "1\r"), sysctl("net.ipv4.ip_forward", ""),
        ]
        let (outcomes, state) = try await onSim(steps, sysctls: ["net.ipv4.ip_local_port_range", "net.ipv4.ip_forward"])
        #expect(outcomes.map { $0.prefix { $0 != " " } } == ["ok", "ok", "EINVAL", "EINVAL"])
        #expect(state.sysctls["net.ipv4.ip_local_port_range"] == "40000\t50000")
        #expect(state.sysctls["net.ipv4.ip_forward"] == "1")
        try await againstKernel(steps)
    }

    @Test("8: a secondary added after the subnet's connected route was deleted adds only its local route")
    func secondaryAfterDeletedConnected() async throws {
        let steps: [FidelityStep] = [
            .rtnl(.addAddress(address("10.1.0.1/24", "v0"))),
            .rtnl(.deleteRoute(Route(destination: try IPPrefix("10.1.0.0/24"), proto: 0))),
            .rtnl(.addAddress(address("10.1.0.2/24", "v0"))),
        ]
        let (outcomes, state) = try await onSim(steps)
        #expect(outcomes == ["ok", "ok", "ok"])
        #expect(!state.routes.contains { $0.hasPrefix("unicast 10.1.0.0/24") })
        #expect(state.routes.contains("local 10.1.0.2 table 255 proto 2 scope 254 metric 0 dev v0 src 10.1.0.1"))
        try await againstKernel(steps)
    }

    @Test("9: an address whose subnet key our route holds keeps both routes; a gateway route still resolves after ours goes")
    func subnetKeyHeld() async throws {
        let steps: [FidelityStep] = [
            .rtnl(.addRoute(route("10.3.0.0/24", dev: "v0"))), .rtnl(.addAddress(address("10.3.0.1/24", "v0"))),
            .rtnl(.deleteRoute(Route(destination: try IPPrefix("10.3.0.0/24")))),
            .rtnl(.addRoute(route("10.30.0.0/16", via: "10.3.0.9"))),
        ]
        let (outcomes, state) = try await onSim(steps)
        #expect(outcomes == ["ok", "ok", "ok", "ok"])
        #expect(state.routes.contains("unicast 10.3.0.0/24 table 254 proto 2 scope 253 metric 0 dev v0 src 10.3.0.1"))
        try await againstKernel(steps)
    }

    @Test("10: a zero network gets no connected or broadcast route; a /0 address can be requested")
    func zeronet() async throws {
        let steps: [FidelityStep] = [
            .rtnl(.addAddress(address("0.1.2.3/8", "v0"))), .rtnl(.addAddress(address("0.1.2.3/16", "v0"))),
            .rtnl(.addAddress(address("10.5.0.1/0", "v1"))),
        ]
        let (outcomes, state) = try await onSim(steps)
        #expect(outcomes == ["ok", "ok", "ok"])
        #expect(!state.routes.contains { $0.hasPrefix("unicast 0.0.0.0/8") || $0.hasPrefix("broadcast 0.255.255.255") })
        #expect(state.routes.contains { $0.hasPrefix("unicast 0.1.0.0/16") }, "0.1.0.0 is not the zero network")
        #expect(state.routes.filter { $0.hasSuffix("dev v1 src 10.5.0.1") } == ["local 10.5.0.1 table 255 proto 2 scope 254 metric 0 dev v1 src 10.5.0.1"])
        try await againstKernel(steps)
    }

    @Test("11: errno and ext-ack text as the kernel gives them")
    func errorTexts() async throws {
        let steps: [FidelityStep] = [
            .rtnl(.addAddress(address("10.0.0.1/24", "v0"))), .rtnl(.addAddress(address("10.0.0.1/24", "v0"))),
            .rtnl(.addRoute(route("2001:db8:5::/48", via: "2001:db8:7::1"))),
            .rtnl(.addRoute(route("10.10.0.0/16", via: "10.9.9.9"))),
            .rtnl(.deleteRoute(Route(destination: try IPPrefix("10.10.0.0/16"), table: 100))),
            .rtnl(.deleteRoute(Route(destination: try IPPrefix("10.10.0.0/16")))),
            .rtnl(.addRoute(route("2001:db8:5::/48", via: "fe80::1"))),
            .rtnl(.addAddress(address("fc00::1/64", "nosuch"))),
        ]
        let (outcomes, _) = try await onSim(steps)
        #expect(outcomes == [
            "ok", "EEXIST \"ipv4: Address already assigned\"", "errno 113 (no ext-ack)",
            "ENETUNREACH \"Nexthop has invalid gateway\"", "ESRCH \"FIB table does not exist\"", "ESRCH (no ext-ack)",
            "EINVAL \"Egress device not specified\"", "ENODEV \"ipv6: Unable to find the interface\"",
        ])
        try await againstKernel(steps)
    }

    @Test("the real backend reads the kernel's IPv6 local routes with metric 0 as 0", .enabled(if: getuid() == 0, "needs root for a throwaway namespace"))
    func localMetricZero() async throws {
        let real = try LinuxFidelityKernel(backend: LinuxKernel())
        defer { real.close() }
        let routes = try await real.backend.routes(in: real.scope, matching: RouteFilter(family: .ipv6, table: RouteTable.local))
        let locals = routes.filter { $0.type == .local }
        #expect(!locals.isEmpty)
        #expect(locals.allSatisfy { $0.metric == 0 }, "\(locals)")
    }
}
