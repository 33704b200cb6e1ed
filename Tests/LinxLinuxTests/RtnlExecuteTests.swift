import LinxLinux
import LinxReconcile
import LinxTestSupport
import SystemPackage
import Testing

// Real kernel: needs root for `ip netns add`; skipped (with the reason
// printed) otherwise.
@Suite("rtnetlink changes", .enabled(if: RealKernel.available, "needs root and iproute2"))
struct RtnlExecuteTests {
    let kernel = LinuxKernel()

    @Test func addReplaceDeleteRoundTrip() async throws {
        try await ThrowawayNamespace.with { ns in
            let v0 = try ns.index(of: "v0")
            let own = InterfaceAddress(ifindex: v0, address: address("10.0.0.2"), prefixLength: 24)
            let route = Route(destination: prefix("10.1.0.0/24"), gateway: address("10.0.0.1"), table: 100)
            var results = await kernel.execute([.addAddress(own), .addRoute(route)], in: ns.scope, stopOnError: true)
            #expect(results.count == 2 && results.allSatisfy { errno(of: $0) == nil })
            #expect(try ns.ip("route", "show", "table", "100").contains("10.1.0.0/24 via 10.0.0.1 dev v0 proto 76"))

            var moved = route
            moved.gateway = address("10.0.0.254")
            results = await kernel.execute([.replaceRoute(moved)], in: ns.scope, stopOnError: true)
            #expect(errno(of: results.first) == nil)
            let dumped = try await kernel.routes(in: ns.scope, matching: RouteFilter(family: .ipv4, table: 100))
            #expect(dumped.map(\.gateway) == [address("10.0.0.254")])

            results = await kernel.execute([.deleteRoute(moved), .deleteAddress(own)], in: ns.scope, stopOnError: true)
            #expect(results.count == 2 && results.allSatisfy { errno(of: $0) == nil })
            #expect(try ns.ip("route", "show", "table", "100").isEmpty)
            #expect(!(try ns.ip("addr", "show", "dev", "v0").contains("10.0.0.2")))
        }
    }

    @Test func refusalsCarryTheKernelsErrno() async throws {
        try await ThrowawayNamespace.with { ns in
            let v0 = try ns.index(of: "v0")
            try ns.ip("addr", "add", "10.0.0.2/24", "dev", "v0")
            try ns.ip("route", "add", "10.1.0.0/24", "via", "10.0.0.1", "proto", "76")
            let requests: [RtnlRequest] = [
                .addRoute(Route(destination: prefix("10.1.0.0/24"), gateway: address("10.0.0.1"))),
                .deleteRoute(Route(destination: prefix("10.7.0.0/24"), gateway: address("10.0.0.1"))),
                .deleteAddress(InterfaceAddress(ifindex: v0, address: address("10.0.0.9"), prefixLength: 24)),
                .addRoute(Route(destination: prefix("10.8.0.0/24"), gateway: address("192.168.5.1"))),
                .addAddress(InterfaceAddress(ifindex: 9999, address: address("10.5.0.1"), prefixLength: 24)),
            ]
            let results = await kernel.execute(requests, in: ns.scope, stopOnError: false)
            #expect(results.map(errno(of:)) == [
                .fileExists, .noSuchProcess, .addressNotAvailable, .networkUnreachable, .noSuchDevice,
            ])
            // The extended ack's text comes along.
            if case .failure(let error) = results[3] { #expect(error.message == "Nexthop has invalid gateway") }
            if case .failure(let error) = results[2] { #expect(error.message?.contains("Address not found") == true) }
        }
    }

    @Test func enobufsOnAnIPv4AddIsExplained() async throws {
        try await ThrowawayNamespace.with { ns in
            // Below 68 bytes of MTU a link has no IPv4 configuration at all.
            try ns.ip("link", "set", "lo", "mtu", "60")
            let results = await kernel.execute(
                [.addAddress(InterfaceAddress(ifindex: 1, address: address("10.9.9.9"), prefixLength: 32))],
                in: ns.scope, stopOnError: true)
            guard case .failure(let error) = results.first else {
                Issue.record("the add must fail, got \(results)")
                return
            }
            #expect(error.errno == .noBufferSpace)
            #expect(error.message?.contains("no IPv4 configuration") == true, "\(error)")
        }
    }

    @Test func deleteOnlyMatchesTheOwnersProtocol() async throws {
        try await ThrowawayNamespace.with { ns in
            try ns.ip("addr", "add", "10.0.0.2/24", "dev", "v0")
            try ns.ip("route", "add", "10.1.0.0/24", "via", "10.0.0.1", "proto", "static")
            let ours = Route(destination: prefix("10.1.0.0/24"), gateway: address("10.0.0.1"))
            let results = await kernel.execute([.deleteRoute(ours)], in: ns.scope, stopOnError: true)
            #expect(errno(of: results.first) == .noSuchProcess)
            #expect(try ns.ip("route", "show", "10.1.0.0/24").contains("proto static"))
        }
    }

    @Test func stopOnErrorCarriesOutNothingAfterTheFailure() async throws {
        try await ThrowawayNamespace.with { ns in
            try ns.ip("addr", "add", "10.0.0.2/24", "dev", "v0")
            let bad = Route(destination: prefix("10.8.0.0/24"), gateway: address("192.168.5.1"))
            let good = (0..<5000).map { Route(destination: prefix("10.20.\($0 / 250).\($0 % 250)/32"), gateway: address("10.0.0.1")) }
            let requests = [RtnlRequest.addRoute(bad)] + good.map(RtnlRequest.addRoute)
            let results = await kernel.execute(requests, in: ns.scope, stopOnError: true)
            // As the simulator: the failure is the last result, and the kernel
            // ran nothing after it (one request outstanding at a time).
            #expect(results.count == 1 && errno(of: results.first) == .networkUnreachable)
            let present = try await kernel.routes(in: ns.scope, matching: RouteFilter(family: .ipv4, proto: 76))
            #expect(present.isEmpty, "\(present.count) requests after the failure were carried out")
        }
    }

    @Test func manyRequestsArePipelinedAndAllAcknowledged() async throws {
        try await ThrowawayNamespace.with { ns in
            try ns.ip("addr", "add", "10.0.0.2/24", "dev", "v0")
            let routes = (0..<6000).map {
                Route(destination: prefix("10.\(30 + $0 / 250 / 250).\($0 / 250 % 250).\($0 % 250)/32"), gateway: address("10.0.0.1"), metric: 5)
            }
            // Every 1000th is a duplicate: its own failure, nothing else affected.
            var requests = routes.map(RtnlRequest.addRoute)
            for index in stride(from: 999, to: requests.count, by: 1000) { requests[index] = .addRoute(routes[index - 1]) }
            let results = await kernel.execute(requests, in: ns.scope, stopOnError: false)
            #expect(results.count == requests.count)
            let failed = results.indices.filter { errno(of: results[$0]) != nil }
            #expect(failed == Array(stride(from: 999, to: requests.count, by: 1000)))
            #expect(failed.allSatisfy { errno(of: results[$0]) == .fileExists })
            let present = try await kernel.routes(in: ns.scope, matching: RouteFilter(family: .ipv4, proto: 76))
            #expect(present.count == requests.count - failed.count)
        }
    }

    @Test func ifaProtoRoundTrips() async throws {
        try await ThrowawayNamespace.with { ns in
            let v0 = try ns.index(of: "v0")
            let tagged = InterfaceAddress(ifindex: v0, address: address("10.0.0.2"), prefixLength: 24, proto: 76)
            let tagged6 = InterfaceAddress(ifindex: v0, address: address("2001:db8::2"), prefixLength: 64, proto: 9)
            let plain = InterfaceAddress(ifindex: v0, address: address("10.0.1.2"), prefixLength: 24)
            let results = await kernel.execute([.addAddress(tagged), .addAddress(tagged6), .addAddress(plain)], in: ns.scope, stopOnError: true)
            #expect(results.count == 3 && results.allSatisfy { errno(of: $0) == nil })
            let dumped = Dictionary(uniqueKeysWithValues: try await kernel.addresses(in: ns.scope).map { ($0.key, $0) })
            #expect(dumped[tagged.key]?.proto == 76)
            #expect(dumped[tagged6.key]?.proto == 9)
            #expect(dumped[plain.key] != nil && dumped[plain.key]?.proto == nil)
        }
    }

    @Test func ipv6RoutesAndMetrics() async throws {
        try await ThrowawayNamespace.with { ns in
            let v0 = try ns.index(of: "v0")
            let route = Route(destination: prefix("2001:db8:5::/48"), ifindex: v0, table: 300)
            let metric = Route(destination: prefix("2001:db8:5::/48"), ifindex: v0, table: 300, metric: 50)
            let results = await kernel.execute([.addRoute(route), .addRoute(metric)], in: ns.scope, stopOnError: true)
            #expect(results.allSatisfy { errno(of: $0) == nil })
            let dumped = try await kernel.routes(in: ns.scope, matching: RouteFilter(family: .ipv6, table: 300))
            #expect(Set(dumped.map(\.key)) == [route.key, metric.key])
            #expect(Set(dumped.map(\.metric)) == [1024, 50])
        }
    }
}
