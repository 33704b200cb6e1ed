import LinxKernelSim
import LinxReconcile
import Testing

/// A namespace with two interfaces, as most rtnl tests start from.
func rtnlHost(seed: UInt64 = 1) throws -> SimKernel {
    let kernel = SimKernel(seed: seed)
    try kernel.addLink("eth0")
    try kernel.addLink("eth1")
    return kernel
}

let rtnlSample: RtnlDesiredState = [
    .address("10.0.0.2/24", on: "eth0"),
    .address("fc00::2/64", on: "eth1"),
    .route(to: "10.50.0.0/24", via: "10.0.0.1"),
    .route(to: "10.60.0.0/24", via: "10.0.0.1", table: 100, metric: 50),
    .route(to: "fc00:9::/48", via: "fc00::1"),
    .defaultRoute(via: "10.0.0.1"),
]

func ip(_ text: String) -> IPAddress { try! IPAddress(text) }
func prefix(_ text: String) -> IPPrefix { try! IPPrefix(text) }

extension SimNetnsSnapshot {
    /// The routes tagged `proto`, as `DST via GW table T metric M` lines.
    func routeLines(proto: UInt8 = 76) -> [String] {
        routes.filter { $0.proto == proto }.map { route in
            "\(route.destination) via \(route.gateway.map(\.description) ?? "-") table \(route.table) metric \(route.metric)"
        }.sorted()
    }

    /// Addresses as `ADDR/LEN@IFNAME`.
    func addressLines() -> [String] {
        addresses.map { address in
            "\(address.address)/\(address.prefixLength)@\(links.first { $0.index == address.ifindex }?.name ?? "?")"
        }.sorted()
    }
}

@Suite("rtnl reconciler on the simulated kernel")
struct RtnlReconcilerTests {
    @Test("the first pass converges, the kernel holds exactly the desired state, and a second pass applies nothing")
    func convergesThenNoOp() async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        let first = try await reconciler.reconcile(in: .current, desired: rtnlSample)
        #expect(first.converged && first.strategy == .staged)
        #expect(first.applied.count == 6)
        let snapshot = try kernel.snapshot()
        #expect(snapshot.routeLines() == [
            "0.0.0.0/0 via 10.0.0.1 table 254 metric 0",
            "10.50.0.0/24 via 10.0.0.1 table 254 metric 0",
            "10.60.0.0/24 via 10.0.0.1 table 100 metric 50",
            "fc00:9::/48 via fc00::1 table 254 metric 1024",
        ])
        #expect(Set(snapshot.addressLines()).isSuperset(of: ["10.0.0.2/24@eth0", "fc00::2/64@eth1"]))
        #expect(first.lastApplied.addresses == [
            .init(interface: "eth0", address: ip("10.0.0.2"), prefixLength: 24),
            .init(interface: "eth1", address: ip("fc00::2"), prefixLength: 64),
        ])
        let second = try await reconciler.reconcile(in: .current, desired: rtnlSample, lastApplied: first.lastApplied)
        #expect(second.planned.isEmpty && second.converged)
        #expect(second.lastApplied == first.lastApplied)
        #expect(try kernel.snapshot() == snapshot)
    }

    @Test("ops are applied in layer order: address creates, route creates, route deletes, address deletes")
    func applyOrder() async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        let before: RtnlDesiredState = [.address("10.0.0.2/24", on: "eth0"), .route(to: "10.50.0.0/24", via: "10.0.0.1")]
        let first = try await reconciler.reconcile(in: .current, desired: before)
        let after: RtnlDesiredState = [.address("10.1.0.2/24", on: "eth1"), .route(to: "10.70.0.0/24", via: "10.1.0.1")]
        let report = try await reconciler.reconcile(in: .current, desired: after, lastApplied: first.lastApplied)
        #expect(report.converged)
        #expect(report.applied.map { "\($0.symbol) \($0.item.address == nil ? "route" : "address")" }
            == ["+ address", "+ route", "- route", "- address"])
        #expect(try kernel.snapshot().routeLines() == ["10.70.0.0/24 via 10.1.0.1 table 254 metric 0"])
    }

    @Test("foreign routes and addresses are never touched, also when the desired state is emptied")
    func foreignUntouched() async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        let first = try await reconciler.reconcile(in: .current, desired: rtnlSample)
        // Someone else adds an address on another subnet and routes through our gateway.
        try kernel.foreign.addAddress(InterfaceAddress(ifindex: kernel.ifindex(of: "eth1")!, address: ip("10.1.0.3"), prefixLength: 24))
        try kernel.foreign.addRoute(Route(destination: prefix("10.80.0.0/24"), gateway: ip("10.1.0.1"), proto: RouteProtocol.boot))
        try kernel.foreign.addRoute(Route(destination: prefix("10.81.0.0/24"), gateway: ip("10.1.0.1"), table: 100, proto: RouteProtocol.static))
        let foreignBefore = try kernel.snapshot().routes.filter { $0.proto != 76 && $0.proto != RouteProtocol.kernel }

        let emptied = try await reconciler.reconcile(in: .current, desired: .empty, lastApplied: first.lastApplied)
        #expect(emptied.converged)
        #expect(emptied.applied.allSatisfy(\.isDelete) && emptied.applied.count == 6)
        let after = try kernel.snapshot()
        #expect(after.routeLines().isEmpty)
        #expect(after.addressLines().contains("10.1.0.3/24@eth1"))
        #expect(!after.addressLines().contains("10.0.0.2/24@eth0"))
        #expect(Set(after.routes).isSuperset(of: foreignBefore))
        #expect(after.routes.contains { $0.destination == prefix("10.1.0.0/24") && $0.proto == RouteProtocol.kernel })
        #expect(emptied.lastApplied == .empty)
    }

    @Test("an owned IPv4 address sharing its subnet with a foreign one is not deleted (it could take it along)")
    func foreignSecondaryProtected() async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        let desired: RtnlDesiredState = [.address("10.0.0.2/24", on: "eth0"), .address("10.1.0.2/24", on: "eth1")]
        let first = try await reconciler.reconcile(in: .current, desired: desired)
        let secondary = InterfaceAddress(ifindex: kernel.ifindex(of: "eth0")!, address: ip("10.0.0.3"), prefixLength: 24)
        try kernel.foreign.addAddress(secondary)
        let blocked = try await reconciler.reconcile(in: .current, desired: .empty, lastApplied: first.lastApplied)
        #expect(!blocked.converged)
        let failure = try #require(blocked.failed.first)
        #expect(failure.error.errno == .resourceBusy && "\(failure.error)".contains("10.0.0.3/24"))
        #expect(try kernel.snapshot().addressLines().contains("10.0.0.3/24@eth0"))
        #expect(blocked.lastApplied.addresses.map(\.description) == ["10.0.0.2/24 on eth0"])
        // Once the foreign address is gone, the release goes through.
        try kernel.foreign.deleteAddress(secondary)
        let release = try await reconciler.reconcile(in: .current, desired: .empty, lastApplied: blocked.lastApplied)
        #expect(release.converged && release.lastApplied == .empty)
        #expect(!(try kernel.snapshot().addressLines().contains("10.0.0.2/24@eth0")))
    }

    @Test("our primary is refused, not deleted, when a foreign secondary sorts before it by address (dump order decides)")
    func primaryAfterForeignSecondaryByKey() async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        let first = try await reconciler.reconcile(in: .current, desired: [.address("10.0.0.9/24", on: "eth0")])
        // Added second, so the kernel makes it a secondary of ours although 10.0.0.3 < 10.0.0.9.
        try kernel.foreign.addAddress(InterfaceAddress(ifindex: kernel.ifindex(of: "eth0")!, address: ip("10.0.0.3"), prefixLength: 24))
        let blocked = try await reconciler.reconcile(in: .current, desired: .empty, lastApplied: first.lastApplied)
        #expect(!blocked.converged)
        let failure = try #require(blocked.failed.first)
        #expect(failure.error.errno == .resourceBusy && "\(failure.error)".contains("10.0.0.3/24"))
        #expect(try kernel.snapshot().addressLines().filter { $0.hasPrefix("10.0.0.") } == ["10.0.0.3/24@eth0", "10.0.0.9/24@eth0"])
        #expect(blocked.lastApplied.addresses.map(\.description) == ["10.0.0.9/24 on eth0"])
    }

    @Test("with lastApplied lost, emptying the desired state deletes our tagged routes but no address it cannot prove it owns")
    func lostLastApplied() async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        _ = try await reconciler.reconcile(in: .current, desired: rtnlSample)
        let report = try await reconciler.reconcile(in: .current, desired: .empty, lastApplied: .empty)
        #expect(report.applied.allSatisfy { $0.item.route != nil })
        let after = try kernel.snapshot()
        #expect(after.routeLines().isEmpty)
        #expect(Set(after.addressLines()).isSuperset(of: ["10.0.0.2/24@eth0", "fc00::2/64@eth1"]))
    }

    @Test("drift is healed in one pass: ours deleted, ours modified in place, foreign added")
    func driftHealed() async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        let first = try await reconciler.reconcile(in: .current, desired: rtnlSample)
        let eth0 = kernel.ifindex(of: "eth0")!
        try kernel.foreign.addAddress(InterfaceAddress(ifindex: eth0, address: ip("10.0.0.9"), prefixLength: 24))
        try kernel.foreign.deleteRoute(Route(destination: prefix("10.50.0.0/24"), gateway: ip("10.0.0.1"), ifindex: eth0))
        try kernel.foreign.replaceRoute(Route(destination: prefix("0.0.0.0/0"), gateway: ip("10.0.0.7")))
        try kernel.foreign.deleteAddress(InterfaceAddress(ifindex: kernel.ifindex(of: "eth1")!, address: ip("fc00::2"), prefixLength: 64))
        try kernel.foreign.addRoute(Route(destination: prefix("10.90.0.0/24"), gateway: ip("10.0.0.7"), proto: RouteProtocol.boot))

        let heal = try await reconciler.reconcile(in: .current, desired: rtnlSample, lastApplied: first.lastApplied)
        #expect(heal.converged)
        // Re-created: 10.50.0.0/24 and the address fc00::2/64; updated: the default route. The
        // route via fc00::1 survives the foreign address delete, as on Linux 6.18 (checked in a
        // throwaway namespace: deleting an IPv6 address keeps gateway routes through its link).
        #expect(heal.applied.map(\.symbol).sorted() == ["+", "+", "~"])
        let after = try kernel.snapshot()
        #expect(after.routeLines() == (try await freshSnapshot(rtnlSample)).routeLines())
        #expect(after.addressLines().contains("10.0.0.9/24@eth0"))
        #expect(after.routes.contains { $0.destination == prefix("10.90.0.0/24") && $0.proto == RouteProtocol.boot })
        let quiet = try await reconciler.reconcile(in: .current, desired: rtnlSample, lastApplied: heal.lastApplied)
        #expect(quiet.planned.isEmpty)
    }

    /// The snapshot a fresh host has after one pass of `desired`.
    func freshSnapshot(_ desired: RtnlDesiredState) async throws -> SimNetnsSnapshot {
        let kernel = try rtnlHost()
        _ = try await RtnlReconciler(backend: kernel).reconcile(in: .current, desired: desired)
        return try kernel.snapshot()
    }

    @Test("a changed gateway is replaced in place; a changed metric leaves only the new route")
    func gatewayAndMetricChanges() async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        let base: RtnlDesiredState = [.address("10.0.0.2/24", on: "eth0"), .route(to: "10.50.0.0/24", via: "10.0.0.1", metric: 10)]
        let first = try await reconciler.reconcile(in: .current, desired: base)
        let newGateway: RtnlDesiredState = [.address("10.0.0.2/24", on: "eth0"), .route(to: "10.50.0.0/24", via: "10.0.0.7", metric: 10)]
        let second = try await reconciler.reconcile(in: .current, desired: newGateway, lastApplied: first.lastApplied)
        #expect(second.applied.map(\.symbol) == ["~"])
        #expect(try kernel.snapshot().routeLines() == ["10.50.0.0/24 via 10.0.0.7 table 254 metric 10"])
        let newMetric: RtnlDesiredState = [.address("10.0.0.2/24", on: "eth0"), .route(to: "10.50.0.0/24", via: "10.0.0.7", metric: 20)]
        let third = try await reconciler.reconcile(in: .current, desired: newMetric, lastApplied: second.lastApplied)
        #expect(third.applied.map(\.symbol) == ["+", "-"])
        #expect(try kernel.snapshot().routeLines() == ["10.50.0.0/24 via 10.0.0.7 table 254 metric 20"])
    }

    @Test("a foreign route holding a desired route's key is never replaced: the create fails with EEXIST")
    func foreignKeyConflict() async throws {
        let kernel = try rtnlHost()
        try kernel.foreign.addAddress(InterfaceAddress(ifindex: kernel.ifindex(of: "eth0")!, address: ip("10.0.0.2"), prefixLength: 24))
        let foreignRoute = Route(destination: prefix("10.50.0.0/24"), gateway: ip("10.0.0.5"), proto: RouteProtocol.boot)
        try kernel.foreign.addRoute(foreignRoute)
        let reconciler = RtnlReconciler(backend: kernel)
        let desired: RtnlDesiredState = [
            .address("10.0.0.2/24", on: "eth0"),
            .route(to: "10.50.0.0/24", via: "10.0.0.1"),
            .route(to: "10.70.0.0/24", via: "10.0.0.1"),
        ]
        let report = try await reconciler.reconcile(in: .current, desired: desired)
        #expect(!report.converged)
        let failure = try #require(report.failed.first)
        #expect(failure.error.errno == .fileExists && "\(failure.error)".contains("never replaced"))
        // The other create of its stage still ran; nothing comes after.
        #expect(report.pending.isEmpty && report.applied.count == 1)
        let held = try #require(try kernel.snapshot().routes.first { $0.destination == prefix("10.50.0.0/24") })
        #expect(held.proto == RouteProtocol.boot && held.gateway == ip("10.0.0.5"))
        // The already-present address is used, not adopted: it was not ours.
        #expect(report.lastApplied.addresses.isEmpty)
    }

    @Test("invalid desired states are rejected and the namespace is unchanged", arguments: [
        RtnlDesiredState([.address("10.0.0.2/24", on: "eth0"), .address("10.0.0.3/24", on: "nope0")]),
        RtnlDesiredState([.address("10.0.0.2/24", on: "eth0"), .route(to: "10.50.0.0/24", via: "fc00::1")]),
        RtnlDesiredState([.address("10.0.0.2/24", on: "eth0"), .route(to: "10.50.0.1/24", via: "10.0.0.1")]),
        RtnlDesiredState([.address("10.0.0.2/40", on: "eth0")]),
        RtnlDesiredState([.address("10.0.0.x/24", on: "eth0")]),
        RtnlDesiredState([.route(to: "10.50.0.0/24", via: "10.0.0.1"), .route(to: "10.50.0.0/24", via: "10.0.0.2")]),
    ])
    func invalidRejected(desired: RtnlDesiredState) async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        let first = try await reconciler.reconcile(in: .current, desired: rtnlSample)
        let before = try kernel.snapshot()
        let writesBefore = backendWrites(kernel)
        await #expect {
            try await reconciler.reconcile(in: .current, desired: desired, lastApplied: first.lastApplied)
        } throws: { error in
            guard case .invalidDesired = error as? ReconcileError else { return false }
            return true
        }
        #expect(try kernel.snapshot() == before)
        #expect(backendWrites(kernel) == writesBefore)
    }

    @Test("a missing namespace is a pass that could not run")
    func missingNamespace() async throws {
        let kernel = try rtnlHost()
        await #expect {
            try await RtnlReconciler(backend: kernel).reconcile(in: .named("ghost"), desired: rtnlSample)
        } throws: { error in
            guard case .scopeUnavailable = error as? ReconcileError else { return false }
            return true
        }
    }

    @Test("ownership is recorded by interface name: a recreated interface is refilled, not confused by its new index")
    func linkRecreated() async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        let desired: RtnlDesiredState = [.address("10.0.0.2/24", on: "eth0")]
        let first = try await reconciler.reconcile(in: .current, desired: desired)
        let oldIndex = kernel.ifindex(of: "eth0")!
        try kernel.removeLink("eth0")
        try kernel.addLink("eth0")
        #expect(kernel.ifindex(of: "eth0") != oldIndex)
        let refill = try await reconciler.reconcile(in: .current, desired: desired, lastApplied: first.lastApplied)
        #expect(refill.applied.map(\.symbol) == ["+"])
        #expect(refill.lastApplied == first.lastApplied)
        // An owned address that vanished with its link is simply dropped.
        try kernel.removeLink("eth0")
        try kernel.addLink("eth0")
        let release = try await reconciler.reconcile(in: .current, desired: .empty, lastApplied: refill.lastApplied)
        #expect(release.planned.isEmpty && release.lastApplied == .empty)
    }

    @Test("with an address protocol, addresses are tagged and owned two-way; untagged ones are never deleted")
    func addressProtocol() async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        let options = RtnlOptions(addressProtocol: 99)
        try kernel.foreign.addAddress(InterfaceAddress(ifindex: kernel.ifindex(of: "eth1")!, address: ip("10.1.0.9"), prefixLength: 24))
        _ = try await reconciler.reconcile(in: .current, desired: [.address("10.0.0.2/24", on: "eth0")], options: options)
        let tagged = try kernel.snapshot().addresses.first { $0.address == ip("10.0.0.2") }
        #expect(tagged?.proto == 99)
        // lastApplied lost: the tag alone proves ownership.
        let report = try await reconciler.reconcile(in: .current, desired: .empty, lastApplied: .empty, options: options)
        #expect(report.applied.count == 1 && report.applied[0].isDelete)
        let lines = try kernel.snapshot().addressLines()
        #expect(!lines.contains("10.0.0.2/24@eth0") && lines.contains("10.1.0.9/24@eth1"))
    }

    @Test("one reconciler serving two namespaces keeps their plans apart (its pass cache is keyed by scope)")
    func twoScopes() async throws {
        let kernel = try rtnlHost()
        try kernel.createNamespace(.named("c1"))
        try kernel.addLink("eth0", in: .named("c1"))
        try kernel.addLink("eth1", in: .named("c1"))
        let reconciler = RtnlReconciler(backend: kernel)
        let host = try await reconciler.reconcile(in: .current, desired: rtnlSample)
        let again = try await reconciler.reconcile(in: .current, desired: rtnlSample, lastApplied: host.lastApplied)
        #expect(again.planned.isEmpty)
        let container = try await reconciler.reconcile(in: .named("c1"), desired: rtnlSample, lastApplied: host.lastApplied)
        #expect(container.applied.count == 6 && container.converged)
        #expect(try kernel.snapshot(of: .named("c1")).routeLines() == (try kernel.snapshot().routeLines()))
    }

    @Test("swapping the primaries of every subnet on a link never leaves it without an IPv4 address (the kernel would flush its routes)")
    func everyPrimarySwapped() async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        let first = try await reconciler.reconcile(
            in: .current, desired: [.address("10.0.0.2/24", on: "eth0"), .address("10.1.0.2/24", on: "eth0")])
        // A foreign on-link route: it needs no address, but goes with the link's last IPv4 one.
        let foreign = Route(destination: prefix("10.9.0.0/24"), ifindex: kernel.ifindex(of: "eth0")!, proto: RouteProtocol.static, scope: 253)
        try kernel.foreign.addRoute(foreign)
        let swapped: RtnlDesiredState = [.address("10.0.0.3/24", on: "eth0"), .address("10.1.0.3/24", on: "eth0")]
        let report = try await reconciler.reconcile(in: .current, desired: swapped, lastApplied: first.lastApplied)
        #expect(report.converged)
        let after = try kernel.snapshot()
        #expect(after.route(foreign.key) != nil)
        #expect(after.addressLines().filter { $0.hasSuffix("@eth0") && $0.contains(".") } == ["10.0.0.3/24@eth0", "10.1.0.3/24@eth0"])
    }

    @Test("swapping a link's only subnet re-creates our unchanged routes through the link, which the kernel flushes with its last address")
    func onlySubnetSwapped() async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        let route = RtnlDesiredState.Entry.route(to: "10.9.0.0/24", dev: "eth0")
        let first = try await reconciler.reconcile(in: .current, desired: [.address("10.0.0.2/24", on: "eth0"), route])
        #expect(first.converged)
        let report = try await reconciler.reconcile(
            in: .current, desired: [.address("10.0.0.3/24", on: "eth0"), route], lastApplied: first.lastApplied)
        #expect(report.converged)
        #expect(try kernel.snapshot().routeLines() == ["10.9.0.0/24 via - table 254 metric 0"])
    }

    @Test("replacing a subnet's primary address converges in one pass, keeping the routes through it",
          arguments: [false, true])
    func primaryReplaced(keepSecondary: Bool) async throws {
        let kernel = try rtnlHost()
        let reconciler = RtnlReconciler(backend: kernel)
        let before: RtnlDesiredState = keepSecondary
            ? [.address("10.0.0.2/24", on: "eth0"), .address("10.0.0.3/24", on: "eth0"), .route(to: "10.50.0.0/24", via: "10.0.0.1")]
            : [.address("10.0.0.2/24", on: "eth0"), .route(to: "10.50.0.0/24", via: "10.0.0.1")]
        let first = try await reconciler.reconcile(in: .current, desired: before)
        #expect(first.converged)
        let after: RtnlDesiredState = [.address("10.0.0.3/24", on: "eth0"), .route(to: "10.50.0.0/24", via: "10.0.0.1")]
        let swap = try await reconciler.reconcile(in: .current, desired: after, lastApplied: first.lastApplied)
        #expect(swap.converged)
        #expect(swap.applied.first?.isDelete == true)
        let snapshot = try kernel.snapshot()
        #expect(snapshot.addressLines().contains("10.0.0.3/24@eth0"))
        #expect(!snapshot.addressLines().contains("10.0.0.2/24@eth0"))
        #expect(snapshot.routeLines() == ["10.50.0.0/24 via 10.0.0.1 table 254 metric 0"])
        #expect(swap.lastApplied.addresses.map(\.description) == ["10.0.0.3/24 on eth0"])
        let quiet = try await reconciler.reconcile(in: .current, desired: after, lastApplied: swap.lastApplied)
        #expect(quiet.planned.isEmpty)
    }
}
