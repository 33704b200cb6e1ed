import LinxKernelSim
import LinxReconcile
import SystemPackage
import Testing

@Suite("Addresses and routes")
struct RouteSemanticsTests {
    /// A kernel with veth v0 (10.0.0.2/24) and its peer v1, both up.
    func kernelWithV0() async throws -> (SimKernel, Int32) {
        let kernel = SimKernel()
        let (v0, _) = try kernel.addVethPair("v0", "v1")
        #expect(await ok(kernel, .addAddress(addr("10.0.0.2/24", on: v0))))
        return (kernel, v0)
    }

    @Test("an IPv4 address creates the connected, local and broadcast routes (as on Linux 6.18)")
    func connectedRoutes() async throws {
        let (kernel, v0) = try await kernelWithV0()
        let routes = try await kernel.routes(in: .current, matching: RouteFilter(family: .ipv4))
        let connected = try #require(routes.first { $0.destination == prefix("10.0.0.0/24") })
        #expect(connected.table == RouteTable.main && connected.proto == RouteProtocol.kernel && connected.scope == 253)
        #expect(connected.ifindex == v0 && connected.gateway == nil && connected.type == .unicast)
        let local = try #require(routes.first { $0.destination == prefix("10.0.0.2/32") })
        #expect(local.table == RouteTable.local && local.type == .local && local.scope == 254)
        let broadcast = try #require(routes.first { $0.destination == prefix("10.0.0.255/32") })
        #expect(broadcast.table == RouteTable.local && broadcast.type == .broadcast)
        // /31 and /32 make no broadcast route; /32 no connected route either
        #expect(await ok(kernel, .addAddress(addr("10.5.0.1/32", on: v0))))
        let after = try kernel.snapshot().routes
        #expect(!after.contains { $0.destination == prefix("10.5.0.1/32") && $0.table == RouteTable.main })
        #expect(after.contains { $0.destination == prefix("10.5.0.1/32") && $0.type == .local })
    }

    @Test("address errnos: EEXIST twice, EADDRNOTAVAIL for a missing one, ENODEV for an unknown ifindex")
    func addressErrnos() async throws {
        let (kernel, v0) = try await kernelWithV0()
        #expect(await errno(send(kernel, .addAddress(addr("10.0.0.2/24", on: v0)))) == .fileExists)
        #expect(await errno(send(kernel, .deleteAddress(addr("10.0.0.3/24", on: v0)))) == .addressNotAvailable)
        #expect(await errno(send(kernel, .addAddress(addr("10.0.0.9/24", on: 99)))) == .noSuchDevice)
        // IPv4 keys include the prefix length: the same address with another length is another address
        #expect(await ok(kernel, .addAddress(addr("10.0.0.2/16", on: v0))))
        // IPv6 refuses the same address on a link whatever the length
        #expect(await ok(kernel, .addAddress(addr("2001:db8::1/64", on: v0))))
        #expect(await errno(send(kernel, .addAddress(addr("2001:db8::1/80", on: v0)))) == .fileExists)
    }

    @Test("deleting the link's last IPv4 address removes its routes and flushes every route through the link")
    func addressDeleteFlushes() async throws {
        let (kernel, v0) = try await kernelWithV0()
        let viaGateway = Route(destination: prefix("10.1.0.0/24"), gateway: ip("10.0.0.1"))
        #expect(await ok(kernel, .addRoute(viaGateway)))
        #expect(try kernel.snapshot().routes.first { $0.destination == prefix("10.1.0.0/24") }?.ifindex == v0)
        #expect(await ok(kernel, .deleteAddress(addr("10.0.0.2/24", on: v0))))
        let left = try kernel.snapshot().routes.filter { $0.family == .ipv4 && $0.ifindex == v0 }
        #expect(left.isEmpty)
    }

    @Test("with another IPv4 address left on the link, gateway routes stay even when stranded (as Linux 6.18 does)")
    func addressDeleteKeepsGatewayRoutes() async throws {
        // Checked by the real-kernel replay: only the link's last IPv4 address flushes its routes.
        let (kernel, v0) = try await kernelWithV0()
        #expect(await ok(kernel, .addAddress(addr("192.168.5.2/24", on: v0))))
        #expect(await ok(kernel, .addRoute(Route(destination: prefix("10.1.0.0/24"), gateway: ip("10.0.0.1")))))
        #expect(await ok(kernel, .deleteAddress(addr("10.0.0.2/24", on: v0))))
        let dests = Set(try kernel.snapshot().routes.map(\.destination))
        #expect(dests.contains(prefix("10.1.0.0/24")))
        #expect(!dests.contains(prefix("10.0.0.0/24")))
        // a new route through the stranded gateway is refused
        #expect(await errno(send(kernel, .addRoute(Route(destination: prefix("10.2.0.0/24"), gateway: ip("10.0.0.1"))))) == .networkUnreachable)
    }

    @Test("route errnos: ENETUNREACH, EEXIST, ESRCH, ENODEV, ENETDOWN; replace creates or replaces")
    func routeErrnos() async throws {
        let (kernel, v0) = try await kernelWithV0()
        let route = Route(destination: prefix("10.1.0.0/24"), gateway: ip("10.0.0.1"))
        #expect(await errno(send(kernel, .addRoute(Route(destination: prefix("10.1.0.0/24"), gateway: ip("192.168.5.1"))))) == .networkUnreachable)
        #expect(await ok(kernel, .addRoute(route)))
        #expect(await errno(send(kernel, .addRoute(route))) == .fileExists)
        // a different metric is a different route
        var other = route
        other.metric = 10
        #expect(await ok(kernel, .addRoute(other)))
        // replace changes the gateway of the same key
        var moved = route
        moved.gateway = ip("10.0.0.7")
        #expect(await ok(kernel, .replaceRoute(moved)))
        #expect(try kernel.snapshot().route(route.key)?.gateway == ip("10.0.0.7"))
        // replace of a missing key creates it
        #expect(await ok(kernel, .replaceRoute(Route(destination: prefix("10.3.0.0/24"), gateway: ip("10.0.0.1")))))
        // a delete naming another protocol matches nothing
        var foreignProto = other
        foreignProto.proto = RouteProtocol.static
        #expect(await errno(send(kernel, .deleteRoute(foreignProto))) == .noSuchProcess)
        // A delete carries the key and protocol only (the backends send no gateway or device), so
        // the route of the key goes whatever its gateway; for IPv4 a metric of 0 is then a
        // wildcard: the next delete takes the metric-10 one.
        #expect(await ok(kernel, .deleteRoute(route)))
        #expect(try kernel.snapshot().route(route.key) == nil)
        #expect(try kernel.snapshot().route(other.key) != nil)
        #expect(await ok(kernel, .deleteRoute(route)))
        #expect(try kernel.snapshot().route(other.key) == nil)
        #expect(await errno(send(kernel, .deleteRoute(moved))) == .noSuchProcess)
        #expect(await errno(send(kernel, .addRoute(Route(destination: prefix("10.4.0.0/24"))))) == .noSuchDevice)
        #expect(await errno(send(kernel, .addRoute(Route(destination: prefix("10.4.0.0/24"), ifindex: 77)))) == .noSuchDevice)
        // a gateway on the subnet's broadcast address is refused; one of our own addresses is
        // accepted through its link (the lookup lands on the local route), as on Linux 6.18
        #expect(await errno(send(kernel, .addRoute(Route(destination: prefix("10.4.0.0/24"), gateway: ip("10.0.0.255"))))) == .invalidArgument)
        #expect(await ok(kernel, .addRoute(Route(destination: prefix("10.4.0.0/24"), gateway: ip("10.0.0.2")))))
        #expect(await ok(kernel, .addRoute(Route(destination: prefix("10.6.0.0/24"), type: .blackhole))))
        _ = v0
    }

    @Test("IPv6: metric 0 is stored as 1024, link-local routes appear with the link, unreachable gateway is EHOSTUNREACH")
    func ipv6() async throws {
        let kernel = SimKernel()
        let v0 = try kernel.addLink("v0")
        let snap = try kernel.snapshot()
        let linkLocal = try #require(snap.addresses.first { $0.ifindex == v0 })
        #expect(linkLocal.address.isIPv6LinkLocal && linkLocal.prefixLength == 64)
        #expect(snap.routes.contains { $0.destination == prefix("fe80::/64") && $0.metric == 256 && $0.ifindex == v0 })
        #expect(snap.routes.contains { $0.destination.address == linkLocal.address && $0.type == .local && $0.metric == 0 })
        #expect(await ok(kernel, .addAddress(addr("2001:db8::1/64", on: v0))))
        var route = Route(destination: prefix("2001:db8:1::/64"), gateway: ip("2001:db8::2"))
        route.metric = 0
        #expect(await ok(kernel, .addRoute(route)))
        let stored = try #require(try await kernel.routes(in: .current, matching: RouteFilter(family: .ipv6, proto: RouteProtocol.linx)).first)
        #expect(stored.metric == 1024 && stored.ifindex == v0)
        #expect(await ok(kernel, .deleteRoute(route)))
        #expect(await errno(send(kernel, .addRoute(Route(destination: prefix("2001:db8:2::/64"), gateway: ip("2001:db9::1"))))) == .noRouteToHost)
        #expect(await ok(kernel, .addRoute(Route(destination: prefix("2001:db8:2::/64"), gateway: ip("fe80::1"), ifindex: v0))))
    }

    @Test("dumps are filtered by family, table and protocol")
    func dumpFilter() async throws {
        let (kernel, _) = try await kernelWithV0()
        #expect(await ok(kernel, .addRoute(Route(destination: prefix("10.1.0.0/24"), gateway: ip("10.0.0.1"), table: 100))))
        #expect(await ok(kernel, .addRoute(Route(destination: prefix("10.2.0.0/24"), gateway: ip("10.0.0.1"), proto: RouteProtocol.static))))
        let ours = try await kernel.routes(in: .current, matching: RouteFilter(proto: RouteProtocol.linx))
        #expect(ours.map(\.destination) == [prefix("10.1.0.0/24")])
        let t100 = try await kernel.routes(in: .current, matching: RouteFilter(table: 100))
        #expect(t100.count == 1)
        let all = try await kernel.routes(in: .current, matching: .all)
        #expect(all.count == kernel.routeCount())
        #expect(all.allSatisfy { RouteFilter(family: .ipv4).matches($0) || $0.family == .ipv6 })
    }

    @Test("execute with stopOnError stops after the first failure; without it every request is tried")
    func executeSemantics() async throws {
        let (kernel, _) = try await kernelWithV0()
        let good = Route(destination: prefix("10.1.0.0/24"), gateway: ip("10.0.0.1"))
        let bad = Route(destination: prefix("10.2.0.0/24"), gateway: ip("172.16.0.1"))
        let later = Route(destination: prefix("10.3.0.0/24"), gateway: ip("10.0.0.1"))
        let stopped = await kernel.execute([.addRoute(good), .addRoute(bad), .addRoute(later)], in: .current, stopOnError: true)
        #expect(stopped.count == 2 && errno(stopped[1]) == .networkUnreachable)
        #expect(try kernel.snapshot().route(later.key) == nil)
        let all = await kernel.execute([.deleteRoute(good), .addRoute(bad), .addRoute(later)], in: .current, stopOnError: false)
        #expect(all.map(errno) == [nil, .networkUnreachable, nil])
        #expect(try kernel.snapshot().route(later.key) != nil)
        let missing = await kernel.execute([.addRoute(good)], in: .named("nope"), stopOnError: false)
        #expect(missing.map(errno) == [.noSuchFileOrDirectory])
    }

    @Test("deleting an IPv4 primary deletes its secondaries unless promote_secondaries is on (Linux 6.18)")
    func secondaries() async throws {
        let (kernel, v0) = try await kernelWithV0()
        #expect(await ok(kernel, .addAddress(addr("10.0.0.3/24", on: v0))))
        #expect(await ok(kernel, .deleteAddress(addr("10.0.0.2/24", on: v0))))
        #expect(!(try kernel.snapshot().addresses.contains { $0.family == .ipv4 && $0.ifindex == v0 }))
        try kernel.foreign.writeSysctl("net.ipv4.conf.v0.promote_secondaries", "1")
        #expect(await ok(kernel, .addAddress(addr("10.0.0.2/24", on: v0))))
        #expect(await ok(kernel, .addAddress(addr("10.0.0.3/24", on: v0))))
        #expect(await ok(kernel, .addRoute(Route(destination: prefix("10.5.0.0/16"), gateway: ip("10.0.0.1")))))
        #expect(await ok(kernel, .deleteAddress(addr("10.0.0.2/24", on: v0))))
        let snap = try kernel.snapshot()
        #expect(snap.addresses.filter { $0.family == .ipv4 && $0.ifindex == v0 }.map { "\($0.address)" } == ["10.0.0.3"])
        // the promoted address keeps the subnet's connected route, so the gateway route stays
        #expect(snap.routes.contains { $0.destination == prefix("10.0.0.0/24") && $0.table == RouteTable.main })
        #expect(snap.routes.contains { $0.destination == prefix("10.5.0.0/16") })
        #expect(snap.routes.contains { $0.destination == prefix("10.0.0.255/32") && $0.type == .broadcast })
        #expect(!snap.routes.contains { $0.destination == prefix("10.0.0.2/32") })
    }
}
