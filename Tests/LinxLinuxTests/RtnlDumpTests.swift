@testable import LinxLinux
import LinxReconcile
import LinxTestSupport
import Testing

// Real kernel: needs root for `ip netns add`; skipped (with the reason
// printed) otherwise.
@Suite("rtnetlink dumps", .enabled(if: RealKernel.available, "needs root and iproute2"))
struct RtnlDumpTests {
    @Test func linksAreDumpedWithKindsAndState() async throws {
        try await ThrowawayNamespace.with { ns in
            try ns.ip("link", "set", "br0", "mtu", "1400")
            try ns.ip("link", "set", "br0", "down")
            let links = try await LinuxKernel().links(in: ns.scope)
            let byName = Dictionary(uniqueKeysWithValues: links.map { ($0.name, $0) })
            #expect(Set(byName.keys) == ["lo", "v0", "v1", "br0"])
            #expect(byName["lo"]?.kind == "loopback")
            #expect(byName["v0"]?.kind == "veth")
            #expect(byName["br0"]?.kind == "bridge")
            #expect(byName["v0"]?.isUp == true)
            #expect(byName["br0"]?.isUp == false)
            #expect(byName["br0"]?.mtu == 1400)
            #expect(byName["v0"]?.index == (try ns.index(of: "v0")))
        }
    }

    @Test func addressesOfBothFamilies() async throws {
        try await ThrowawayNamespace.with { ns in
            try ns.ip("addr", "add", "10.0.0.2/24", "dev", "v0")
            try ns.ip("addr", "add", "2001:db8::2/64", "dev", "v0", "nodad")
            let v0 = try ns.index(of: "v0")
            let addresses = try await LinuxKernel().addresses(in: ns.scope)
            let keys = Set(addresses.map(\.key))
            #expect(keys.contains(.init(ifindex: v0, address: address("10.0.0.2"), prefixLength: 24)))
            #expect(keys.contains(.init(ifindex: v0, address: address("2001:db8::2"), prefixLength: 64)))
            #expect(keys.contains(.init(ifindex: 1, address: address("127.0.0.1"), prefixLength: 8)))
        }
    }

    @Test func routeDumpsAreFilteredByTableAndProtocol() async throws {
        try await ThrowawayNamespace.with { ns in
            try ns.ip("addr", "add", "10.0.0.2/24", "dev", "v0")
            try ns.ip("route", "add", "10.1.0.0/24", "via", "10.0.0.1", "proto", "76")
            try ns.ip("route", "add", "10.2.0.0/24", "via", "10.0.0.1", "proto", "static", "metric", "7")
            try ns.ip("route", "add", "10.3.0.0/24", "via", "10.0.0.1", "proto", "76", "table", "100")
            try ns.ip("route", "add", "2001:db8:1::/64", "dev", "v0", "proto", "76", "table", "1000")
            let kernel = LinuxKernel()

            let owned = try await kernel.routes(in: ns.scope, matching: RouteFilter(family: .ipv4, proto: 76))
            #expect(Set(owned.map(\.destination)) == [prefix("10.1.0.0/24"), prefix("10.3.0.0/24")])

            let table100 = try await kernel.routes(in: ns.scope, matching: RouteFilter(family: .ipv4, table: 100))
            #expect(table100.map(\.destination) == [prefix("10.3.0.0/24")])
            #expect(table100.first?.gateway == address("10.0.0.1"))
            #expect(table100.first?.proto == 76)

            let big = try await kernel.routes(in: ns.scope, matching: RouteFilter(table: 1000))
            #expect(big.map(\.destination) == [prefix("2001:db8:1::/64")])
            #expect(big.first?.metric == 1024)
            #expect(big.first?.ifindex == (try ns.index(of: "v0")))

            let main = try await kernel.routes(in: ns.scope, matching: RouteFilter(family: .ipv4, table: RouteTable.main))
            let staticRoute = try #require(main.first { $0.destination == prefix("10.2.0.0/24") })
            #expect(staticRoute.metric == 7 && staticRoute.proto == RouteProtocol.static)
            #expect(main.contains { $0.destination == prefix("10.0.0.0/24") && $0.proto == RouteProtocol.kernel })
            #expect(!main.contains { $0.table != RouteTable.main })

            let local = try await kernel.routes(in: ns.scope, matching: RouteFilter(family: .ipv4, table: RouteTable.local))
            #expect(local.contains { $0.destination == prefix("10.0.0.2/32") && $0.type == .local })
        }
    }

    @Test func strictCheckingMakesTheKernelFilter() async throws {
        try await ThrowawayNamespace.with { ns in
            try ns.ip("addr", "add", "10.0.0.2/24", "dev", "v0")
            try ns.batch((0..<50).map { "route add 10.9.\($0).0/24 via 10.0.0.1 proto static" })
            try ns.ip("route", "add", "10.1.0.0/24", "via", "10.0.0.1", "proto", "76", "table", "7")
            let kernel = LinuxKernel()
            let raw = try await kernel.kernelFilteredRoutes(in: ns.scope, matching: RouteFilter(family: .ipv4, proto: 76))
            #expect(raw.map(\.destination) == [prefix("10.1.0.0/24")])
            let rawTable = try await kernel.kernelFilteredRoutes(in: ns.scope, matching: RouteFilter(family: .ipv4, table: 7))
            #expect(rawTable.map(\.destination) == [prefix("10.1.0.0/24")])
            // Both families at once (AF_UNSPEC), as a reconcile pass asks.
            try ns.ip("-6", "route", "add", "2001:db8:9::/64", "dev", "v0", "proto", "76")
            try ns.ip("-6", "route", "add", "2001:db8:8::/64", "dev", "v0", "proto", "static")
            let rawBoth = try await kernel.kernelFilteredRoutes(in: ns.scope, matching: RouteFilter(proto: 76))
            #expect(Set(rawBoth.map(\.destination)) == [prefix("10.1.0.0/24"), prefix("2001:db8:9::/64")])
        }
    }

    @Test func dumpOfAMissingTableIsEmpty() async throws {
        try await ThrowawayNamespace.with { ns in
            let routes = try await LinuxKernel().routes(in: ns.scope, matching: RouteFilter(family: .ipv4, table: 4242))
            #expect(routes.isEmpty)
        }
    }

    @Test func missingNamespaceIsENOENT() async throws {
        let error = await #expect(throws: KernelError.self) {
            try await LinuxKernel().links(in: .named("linx-test-does-not-exist"))
        }
        #expect(error?.errno == .noSuchFileOrDirectory)
    }
}
