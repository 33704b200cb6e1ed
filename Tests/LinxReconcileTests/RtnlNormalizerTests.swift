import Foundation
import LinxReconcile
import Testing

@Suite("rtnl desired state: list literal, Codable, normalisation")
struct RtnlNormalizerTests {
    let links = [Link(index: 1, name: "lo"), Link(index: 7, name: "eth0"), Link(index: 9, name: "eth1")]

    /// The error's entry and reason, or nil when `desired` resolved.
    func rejection(_ desired: RtnlDesiredState, options: RtnlOptions = .default) -> (entry: String, reason: String)? {
        do {
            _ = try RtnlNormalizer.resolve(desired, links: links, options: options)
            return nil
        } catch {
            guard case .invalidDesired(let entry, let reason, _) = error else { return ("?", "\(error)") }
            return (entry, reason)
        }
    }

    @Test("a list literal reads like the seed's example and resolves names to fresh indices")
    func listLiteral() throws {
        let desired: RtnlDesiredState = [
            .address("10.0.0.2/24", on: "eth0"),
            .address("fc00::1/64", on: "eth0"),
            .route(to: "10.51.0.0/24", via: "10.0.0.1"),
            .route(to: "10.52.0.0/24", via: "10.0.0.1"),
            .route(to: "10.60.0.0/24", via: "10.0.0.1", table: 100, metric: 50),
            .defaultRoute(via: "10.0.0.1"),
        ]
        #expect(desired.addresses?.count == 2 && desired.routes?.count == 4 && desired.managed == .all)
        let resolved = try RtnlNormalizer.resolve(desired, links: links)
        #expect(resolved.addresses[0] == InterfaceAddress(
            ifindex: 7, address: try IPAddress("10.0.0.2"), prefixLength: 24, interfaceName: "eth0"))
        #expect(resolved.addresses[1].prefixLength == 64)
        let table100 = resolved.routes[2]
        #expect(table100.table == 100 && table100.metric == 50 && table100.proto == 76)
        #expect(table100.gateway == (try IPAddress("10.0.0.1")) && table100.ifindex == nil)
        #expect(resolved.routes[3].destination == .any(.ipv4))
    }

    @Test("JSON round-trips; a missing list is a kind not managed, an empty one a kind managed as empty")
    func codable() throws {
        let desired = RtnlDesiredState([
            .address("10.0.0.2/24", on: "eth0"),
            .route(to: "10.50.0.0/24", via: "10.0.0.1", dev: "eth0", table: 100, metric: 5),
        ])
        let data = try JSONEncoder().encode(desired)
        #expect(try JSONDecoder().decode(RtnlDesiredState.self, from: data) == desired)
        let routesOnly = try JSONDecoder().decode(
            RtnlDesiredState.self, from: Data(#"{"routes":[{"destination":"default","gateway":"10.0.0.1"}]}"#.utf8))
        #expect(routesOnly.addresses == nil && routesOnly.managed == .routes)
        #expect(routesOnly.routes == [RtnlRouteEntry(destination: "default", gateway: "10.0.0.1")])
        let emptied = try JSONDecoder().decode(RtnlDesiredState.self, from: Data(#"{"addresses":[],"routes":[]}"#.utf8))
        #expect(emptied == .empty && emptied.managed == .all)
    }

    @Test("every kind of invalid entry is named with its position and text", arguments: [
        (RtnlDesiredState([.address("10.0.0.2/24", on: "eth9")]), "addresses[0] (address 10.0.0.2/24 on eth9)", "no interface named \"eth9\""),
        (RtnlDesiredState([.address("10.0.0.300/24", on: "eth0")]), "addresses[0]", "not a valid IPv4 address"),
        (RtnlDesiredState([.address("10.0.0.2/33", on: "eth0")]), "addresses[0]", "prefix length 33 is out of range"),
        (RtnlDesiredState([.address("fc00::1/129", on: "eth0")]), "addresses[0]", "prefix length 129 is out of range"),
        (RtnlDesiredState([.address("10.0.0.2/x", on: "eth0")]), "addresses[0]", "is not a number"),
        (RtnlDesiredState([.route(to: "10.50.0.1/24", via: "10.0.0.1")]), "routes[0] (route 10.50.0.1/24 via 10.0.0.1)", "host bits are set"),
        (RtnlDesiredState([.route(to: "10.50.0.0/24", via: "fc00::1")]), "routes[0]", "gateway fc00::1 is ipv6 but destination 10.50.0.0/24 is ipv4"),
        (RtnlDesiredState([.route(to: "10.50.0.0/40", via: "10.0.0.1")]), "routes[0]", "out of range"),
        (RtnlDesiredState([.route(to: "10.50.0.0/24", via: "10.0.0.1", dev: "eth9")]), "routes[0]", "no interface named \"eth9\""),
        (RtnlDesiredState([.route(to: "10.50.0.0/24")]), "routes[0]", "needs a gateway, an interface"),
        (RtnlDesiredState([.route(to: "default", dev: "eth0")]), "routes[0]", "without one write 0.0.0.0/0"),
        (RtnlDesiredState([.route(to: "10.50.0.0/24", via: "nope")]), "routes[0]", "gateway \"nope\""),
        (RtnlDesiredState([.route(to: "10.50.0.0/24", via: "10.0.0.1", table: 0)]), "routes[0]", "table 0"),
        (RtnlDesiredState([
            .route(to: "10.50.0.0/24", via: "10.0.0.1"),
            .route(to: "10.50.0.0/24", via: "10.0.0.9"),
        ]), "routes[1] (route 10.50.0.0/24 via 10.0.0.9)", "same route (table, destination, metric) as routes[0]"),
        (RtnlDesiredState([
            .address("fc00::1/64", on: "eth0"),
            .address("fc00::1/48", on: "eth0"),
        ]), "addresses[1]", "already on eth0 with another prefix length in addresses[0]"),
    ])
    func invalid(desired: RtnlDesiredState, entry: String, reason: String) throws {
        let rejected = try #require(rejection(desired))
        #expect(rejected.entry.hasPrefix(entry), "entry: \(rejected.entry)")
        #expect(rejected.reason.contains(reason), "reason: \(rejected.reason)")
    }

    @Test("identical duplicates are fine and collapse to one object")
    func identicalDuplicates() throws {
        let desired = RtnlDesiredState([
            .address("10.0.0.2/24", on: "eth0"),
            .address("10.0.0.2/24", on: "eth0"),
            .route(to: "10.50.0.0/24", via: "10.0.0.1"),
            .route(to: "10.50.0.0/24", via: "10.0.0.1"),
        ])
        let resolved = try RtnlNormalizer.resolve(desired, links: links)
        #expect(resolved.addresses.count == 1 && resolved.routes.count == 1)
    }

    @Test("IPv4 keeps the same address with two prefix lengths apart, as the kernel does")
    func ipv4TwoPrefixes() throws {
        let desired = RtnlDesiredState([
            .address("10.0.0.2/24", on: "eth0"),
            .address("10.0.0.2/16", on: "eth0"),
        ])
        #expect(try RtnlNormalizer.resolve(desired, links: links).addresses.count == 2)
    }

    @Test("a bare address is a host address; IPv6 metric 0 is stored as 1024; a device route has link scope")
    func kernelForms() throws {
        let desired = RtnlDesiredState([
            .address("10.0.0.2", on: "eth0"),
            .route(to: "fc00:1::/64", via: "fc00::9"),
            .route(to: "10.70.0.0/16", dev: "eth1"),
        ])
        let resolved = try RtnlNormalizer.resolve(desired, links: links)
        #expect(resolved.addresses[0].prefixLength == 32)
        #expect(resolved.routes[0].metric == 1024)
        #expect(resolved.routes[1].scope == 253 && resolved.routes[1].ifindex == 9)
    }

    @Test("ownership tags that would claim the kernel's own state are refused", arguments: [
        RtnlOptions(routeProtocol: 0), RtnlOptions(routeProtocol: RouteProtocol.redirect),
        RtnlOptions(routeProtocol: RouteProtocol.kernel), RtnlOptions(routeProtocol: RouteProtocol.routerAdvertisement),
        RtnlOptions(addressProtocol: 0), RtnlOptions(addressProtocol: 1), RtnlOptions(addressProtocol: 2),
        RtnlOptions(addressProtocol: 3),
    ])
    func badOptions(options: RtnlOptions) async {
        let reconciler = RtnlReconciler(backend: UnreachableRtnlBackend())
        await #expect(throws: ReconcileError.self) {
            try await reconciler.reconcile(in: .current, desired: .empty, options: options)
        }
    }
}

/// A backend that records whether it was ever called: invalid input must be
/// refused before the kernel is touched.
struct UnreachableRtnlBackend: RtnlBackend {
    func links(in scope: NetnsScope) async throws(KernelError) -> [Link] { Issue.record("links dumped"); return [] }
    func addresses(in scope: NetnsScope) async throws(KernelError) -> [InterfaceAddress] { Issue.record("addresses dumped"); return [] }
    func routes(in scope: NetnsScope, matching filter: RouteFilter) async throws(KernelError) -> [Route] { Issue.record("routes dumped"); return [] }
    func execute(_ requests: [RtnlRequest], in scope: NetnsScope, stopOnError: Bool) async -> [Result<Void, KernelError>] {
        Issue.record("requests sent"); return []
    }
    func events(in scope: NetnsScope) async throws(KernelError) -> AsyncThrowingStream<RtnlEvent, any Error> {
        Issue.record("monitor started"); return AsyncThrowingStream { $0.finish() }
    }
}

@Suite("desired-state initialisers")
struct DesiredStateInitTests {
    @Test("empty initialisers are unambiguous and equal to .empty")
    func emptyInits() {
        #expect(RtnlDesiredState() == .empty && RtnlDesiredState().isEmpty)
        #expect(RtnlDesiredState(routes: [RtnlRouteEntry(destination: "default", gateway: "10.0.0.1")]).routes?.count == 1)
        #expect(RtnlDesiredState(addresses: []).managed == .addresses)
        #expect(SysctlDesiredState() == .empty && CgroupDesiredState() == .empty)
    }
}

@Suite("rtnl normaliser: its fast IPv4 path agrees with the general parser")
struct RtnlFastParseTests {
    @Test("addresses are accepted and refused exactly as inet_pton and Int would", arguments: [
        "10.0.0.2/24", "0.0.0.0/0", "255.255.255.255/32", "10.0.0.2", "10.0.0.02/24", "010.0.0.2/24",
        "10.0.0.256/24", "10.0.0/24", "10.0.0.2.1/24", "10..0.2/24", "10.0.0.2/", "10.0.0.2/024",
        "10.0.0.2/0024", "10.0.0.2/+24", "10.0.0.2/33", " 10.0.0.2/24", "10.0.0.2/24 ", "1.2.3.4/2/3", "fc00::1/64",
    ])
    func agrees(text: String) throws {
        let links = [Link(index: 2, name: "eth0")]
        let fast = Result { () throws(ReconcileError) in
            try RtnlNormalizer.resolve([.address(text, on: "eth0")], links: links).addresses.first!
        }
        // The reference: the general parsers, as the normaliser's slow path.
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let reference: (IPAddress, Int)? = {
            guard let address = try? IPAddress(String(parts[0])) else { return nil }
            guard parts.count == 2 else { return (address, address.family.bitWidth) }
            guard let length = Int(parts[1]), (0...address.family.bitWidth).contains(length) else { return nil }
            return (address, length)
        }()
        switch (fast, reference) {
        case (.success(let got), .some(let want)):
            #expect(got.address == want.0 && got.prefixLength == want.1)
        case (.failure, .none):
            break
        default:
            Issue.record("\(text): normaliser \(fast), reference \(String(describing: reference))")
        }
    }
}
