import LinxKernelSim
import LinxReconcile
import SystemPackage
import Testing

@Suite("Namespaces and links")
struct NamespaceAndLinkTests {
    @Test("the boot namespace has lo at index 1, up, with the loopback addresses and routes")
    func bootState() throws {
        let kernel = SimKernel()
        let snap = try kernel.snapshot()
        #expect(snap.links == [Link(index: 1, name: "lo", kind: "loopback", isUp: true, mtu: 65536)])
        #expect(snap.addresses.map { "\($0.address)/\($0.prefixLength)" } == ["127.0.0.1/8", "::1/128"])
        // As `ip route show table all` prints on a host: local 127.0.0.0/8, local 127.0.0.1,
        // broadcast 127.255.255.255 in table local, no route in main for IPv4.
        let v4 = snap.routes.filter { $0.family == .ipv4 }
        #expect(Set(v4.map { "\($0.type) \($0.destination) \($0.table)" }) == [
            "local 127.0.0.0/8 255", "local 127.0.0.1/32 255", "broadcast 127.255.255.255/32 255",
        ])
        let v6 = snap.routes.filter { $0.family == .ipv6 }
        // No ::1/128 route in table main: the kernel's own ::1 has no prefix route (Linux 6.18).
        #expect(Set(v6.map { "\($0.type) \($0.destination) \($0.table) \($0.metric)" }) == ["local ::1/128 255 0"])
    }

    @Test("a created namespace has lo down with no address; EEXIST twice; ENOENT for unknown scopes")
    func namespaces() async throws {
        let kernel = SimKernel()
        try kernel.createNamespace(.named("a"))
        #expect(kernel.namespaces == [.current, .path("/run/netns/a")])
        let snap = try kernel.snapshot(of: .named("a"))
        #expect(snap.links.map(\.isUp) == [false])
        #expect(snap.addresses.isEmpty && snap.routes.isEmpty)
        #expect(await errno { () throws(KernelError) in try kernel.createNamespace(.named("a")) } == .fileExists)
        #expect(await errno { () async throws(KernelError) in try await kernel.links(in: .pid(42)) } == .noSuchFileOrDirectory)
        try kernel.createNamespace(.pid(42))
        #expect(try await kernel.links(in: .pid(42)).count == 1)
        try kernel.deleteNamespace(.named("a"))
        #expect(await errno { () async throws(KernelError) in try await kernel.routes(in: .named("a"), matching: .all) } == .noSuchFileOrDirectory)
        #expect(await errno { () throws(KernelError) in try kernel.deleteNamespace(.named("a")) } == .noSuchFileOrDirectory)
    }

    @Test("indices are monotonic and never reused; names are unique")
    func indices() async throws {
        let kernel = SimKernel()
        #expect(try kernel.addLink("a") == 2)
        #expect(try kernel.addLink("b") == 3)
        try kernel.removeLink("a")
        #expect(try kernel.addLink("a") == 4)
        #expect(await errno { () throws(KernelError) in try kernel.addLink("b") } == .fileExists)
        #expect(await errno { () throws(KernelError) in try kernel.addLink("name-much-too-long") } == .invalidArgument)
        #expect(await errno { () throws(KernelError) in try kernel.removeLink("lo") } == .notSupported)
        #expect(await errno { () throws(KernelError) in try kernel.setLink("nope", up: true) } == .noSuchDevice)
    }

    @Test("deleting one end of a veth pair deletes both, with their addresses, routes and sysctls")
    func vethDelete() async throws {
        let kernel = SimKernel()
        let (a, b) = try kernel.addVethPair("v0", "v1")
        #expect(await ok(kernel, .addAddress(addr("10.0.0.1/24", on: a))))
        #expect(await ok(kernel, .addAddress(addr("10.0.1.1/24", on: b))))
        #expect(await ok(kernel, .addRoute(Route(destination: prefix("10.9.0.0/16"), gateway: ip("10.0.0.2")))))
        #expect(kernel.sysctlValue("net.ipv4.conf.v1.forwarding") == "0")
        try kernel.removeLink("v0")
        let snap = try kernel.snapshot()
        #expect(snap.links.map(\.name) == ["lo"])
        #expect(!snap.addresses.contains { $0.ifindex == a || $0.ifindex == b })
        #expect(!snap.routes.contains { $0.ifindex == a || $0.ifindex == b })
        #expect(kernel.sysctlValue("net.ipv4.conf.v1.forwarding") == nil)
        #expect(kernel.sysctlValue("net.ipv6.conf.v0.disable_ipv6") == nil)
    }

    @Test("link down flushes routes through it except IPv4 local ones, and drops its IPv6 addresses; up restores the connected route")
    func linkDownUp() async throws {
        // Observed on Linux 6.18: after `ip link set br0 down` only `local 10.9.0.1 table local` remains
        // and the IPv4 address stays; IPv6 addresses go (keep_addr_on_down = 0).
        let kernel = SimKernel()
        let br = try kernel.addBridge("br0")
        #expect(await ok(kernel, .addAddress(addr("10.9.0.1/24", on: br))))
        #expect(await ok(kernel, .addAddress(addr("2001:db8::1/64", on: br))))
        #expect(await ok(kernel, .addRoute(Route(destination: prefix("10.10.0.0/16"), gateway: ip("10.9.0.2")))))
        try kernel.setLink("br0", up: false)
        var snap = try kernel.snapshot()
        #expect(snap.routes.filter { $0.ifindex == br }.map { "\($0.type) \($0.destination)" } == ["local 10.9.0.1/32"])
        #expect(snap.addresses.filter { $0.ifindex == br }.map { "\($0.address)" } == ["10.9.0.1"])
        try kernel.setLink("br0", up: true)
        snap = try kernel.snapshot()
        #expect(snap.routes.contains { $0.destination == prefix("10.9.0.0/24") && $0.table == RouteTable.main })
        #expect(snap.routes.contains { $0.destination == prefix("10.9.0.255/32") && $0.type == .broadcast })
        #expect(!snap.routes.contains { $0.destination == prefix("10.10.0.0/16") })
        // the link-local address comes back with the link, the static IPv6 one does not
        #expect(snap.addresses.filter { $0.ifindex == br && $0.family == .ipv6 }.map { $0.address.isIPv6LinkLocal } == [true])
        #expect(await errno(send(kernel, .addRoute(Route(destination: prefix("10.11.0.0/16"), ifindex: br, scope: 253)))) == nil)
        try kernel.setLink("br0", up: false)
        #expect(await errno(send(kernel, .addRoute(Route(destination: prefix("10.12.0.0/16"), ifindex: br, scope: 253)))) == .networkDown)
    }
}
