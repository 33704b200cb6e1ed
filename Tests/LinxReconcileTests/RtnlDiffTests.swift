import Foundation
import LinxReconcile
import Testing

@Suite("rtnl pure diffs")
struct RtnlDiffTests {
    func route(_ dst: String, via gateway: String?, metric: UInt32 = 0, proto: UInt8 = 76, ifindex: Int32? = nil) throws -> Route {
        Route(destination: try IPPrefix(dst), gateway: try gateway.map { try IPAddress($0) }, ifindex: ifindex,
              metric: metric, proto: proto)
    }

    @Test("routes are two-way: foreign routes are invisible, even with the desired state emptied")
    func foreignRoutesInvisible() throws {
        let connected = try route("10.0.0.0/24", via: nil, proto: RouteProtocol.kernel, ifindex: 2)
        let boot = try route("10.9.0.0/24", via: "10.0.0.1", proto: RouteProtocol.boot)
        let ours = try route("10.50.0.0/24", via: "10.0.0.1")
        let ops = RtnlDiff.routes(desired: [], observed: [connected, boot, ours], protocol: 76)
        #expect(ops == [.delete(ours)])
    }

    @Test("a changed gateway is an update; a changed metric creates the new route and deletes the old")
    func gatewayAndMetric() throws {
        let old = try route("10.50.0.0/24", via: "10.0.0.1", metric: 10)
        let newGateway = try route("10.50.0.0/24", via: "10.0.0.9", metric: 10)
        #expect(RtnlDiff.routes(desired: [newGateway], observed: [old], protocol: 76)
            == [.update(newGateway, previous: old)])
        let newMetric = try route("10.50.0.0/24", via: "10.0.0.1", metric: 20)
        #expect(RtnlDiff.routes(desired: [newMetric], observed: [old], protocol: 76)
            == [.create(newMetric), .delete(old)])
    }

    @Test("a desired route without an interface matches the one the kernel resolved")
    func resolvedInterface() throws {
        let desired = try route("10.50.0.0/24", via: "10.0.0.1")
        let observed = try route("10.50.0.0/24", via: "10.0.0.1", ifindex: 4)
        #expect(RtnlDiff.routes(desired: [desired], observed: [observed], protocol: 76).isEmpty)
        let pinned = try route("10.50.0.0/24", via: "10.0.0.1", ifindex: 5)
        #expect(RtnlDiff.routes(desired: [pinned], observed: [observed], protocol: 76)
            == [.update(pinned, previous: observed)])
    }

    @Test("addresses are three-way: only owned keys are deleted, present ones are never re-added")
    func addressesThreeWay() throws {
        let ours = InterfaceAddress(ifindex: 2, address: try IPAddress("10.0.0.2"), prefixLength: 24)
        let foreign = InterfaceAddress(ifindex: 2, address: try IPAddress("10.0.0.3"), prefixLength: 24)
        let wanted = InterfaceAddress(ifindex: 3, address: try IPAddress("fc00::1"), prefixLength: 64)
        let ops = RtnlDiff.addresses(desired: [wanted, foreign], observed: [ours, foreign], owned: [ours.key])
        #expect(ops == [.create(wanted), .delete(ours)])
        #expect(RtnlDiff.addresses(desired: [], observed: [ours, foreign], owned: []).isEmpty)
    }

    @Test("reports name interfaces, not indices")
    func descriptions() throws {
        var address = InterfaceAddress(ifindex: 2, address: try IPAddress("10.0.0.2"), prefixLength: 24)
        address.interfaceName = "eth0"
        #expect(RtnlObject.address(address).description == "address 10.0.0.2/24 dev eth0")
        var r = try route("10.50.0.0/24", via: "10.0.0.1", ifindex: 2)
        r.interfaceName = "eth0"
        #expect(ReconcileOp.create(RtnlObject.route(r)).description == "+ route 10.50.0.0/24 via 10.0.0.1 dev eth0 proto 76")
    }

    @Test("lastApplied is keyed by interface name and round-trips through JSON, sorted")
    func lastAppliedCodable() throws {
        let record = RtnlLastApplied(addresses: [
            .init(interface: "eth1", address: try IPAddress("10.1.0.2"), prefixLength: 24),
            .init(interface: "eth0", address: try IPAddress("fc00::1"), prefixLength: 64),
        ])
        let json = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        #expect(json.range(of: "eth0")!.lowerBound < json.range(of: "eth1")!.lowerBound)
        #expect(try JSONDecoder().decode(RtnlLastApplied.self, from: Data(json.utf8)) == record)
    }

    @Test("an owned IPv4 primary with foreign secondaries is refused; an owned secondary is deleted (kernel dump order)")
    func primaryAndSecondaries() throws {
        let links = [Link(index: 2, name: "eth0")]
        func address(_ text: String) throws -> InterfaceAddress {
            InterfaceAddress(ifindex: 2, address: try IPAddress(text), prefixLength: 24, interfaceName: "eth0")
        }
        let ours = RtnlLastApplied(addresses: [.init(interface: "eth0", address: try IPAddress("10.0.0.9"), prefixLength: 24)])
        let empty = RtnlResolvedState(addresses: [], routes: [])
        // The kernel dumps a link's primaries first: here ours is the primary.
        let primary = RtnlReconciler.plan(
            observed: RtnlObserved(links: links, addresses: [try address("10.0.0.9"), try address("10.0.0.3")], routes: []),
            desired: empty, lastApplied: ours)
        #expect(primary.ops.count == 1)
        #expect(primary.refused[primary.ops[0]]?.errno == .resourceBusy)
        // Here the foreign address is the primary and ours a secondary: safe to delete.
        let secondary = RtnlReconciler.plan(
            observed: RtnlObserved(links: links, addresses: [try address("10.0.0.3"), try address("10.0.0.9")], routes: []),
            desired: empty, lastApplied: ours)
        #expect(secondary.ops.count == 1 && secondary.refused.isEmpty)
        // Another subnet (or prefix length) is no secondary at all.
        var other = try address("10.0.1.3")
        other.prefixLength = 24
        let apart = RtnlReconciler.plan(
            observed: RtnlObserved(links: links, addresses: [try address("10.0.0.9"), other], routes: []),
            desired: empty, lastApplied: ours)
        #expect(apart.refused.isEmpty)
    }

    @Test("the hand-specialised route and address diffs agree with the generic engine, op for op (500 seeded cases)")
    func agreesWithGenericDiff() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        func randomRoute() throws -> Route {
            let v6 = next(4) == 0
            let destination = v6
                ? try IPPrefix(.v6(high: 0xFC00_0000_0000_0000 | UInt64(next(4)) << 16, low: 0), length: 48)
                : try IPPrefix(.v4(0x0A00_0000 | UInt32(next(6)) << 8), length: 24)
            let gateway: IPAddress = v6 ? .v6(high: 0xFC00_0000_0000_0000, low: UInt64(1 + next(2))) : .v4(0x0A00_0001 + UInt32(next(2)))
            return Route(
                destination: destination, gateway: gateway, ifindex: next(3) == 0 ? nil : Int32(2 + next(2)),
                table: next(3) == 0 ? 100 : RouteTable.main, metric: UInt32(next(3) * 10),
                proto: next(3) == 0 ? RouteProtocol.boot : RouteProtocol.linx)
        }
        func randomAddress() -> InterfaceAddress {
            InterfaceAddress(ifindex: Int32(2 + next(2)), address: .v4(0x0A00_0000 | UInt32(next(8))), prefixLength: 24 + next(2))
        }
        for _ in 0..<500 {
            var desired: [Route] = []
            var keys = Set<Route.Key>()
            for _ in 0..<next(8) {
                var route = try randomRoute()
                route.proto = RouteProtocol.linx
                if keys.insert(route.key).inserted { desired.append(route) }
            }
            var observed: [Route] = []
            var observedKeys = Set<Route.Key>()
            for _ in 0..<next(8) {
                let route = try randomRoute()
                if observedKeys.insert(route.key).inserted { observed.append(route) }
            }
            let generic = Diff.twoWay(
                desired: desired, observed: observed, isOwned: { $0.proto == RouteProtocol.linx },
                isSame: RtnlDiff.sameRoute)
            #expect(RtnlDiff.routes(desired: desired, observed: observed, protocol: RouteProtocol.linx) == generic)

            let wanted = Array(Set((0..<next(6)).map { _ in randomAddress() }))
            let present = Array(Set((0..<next(6)).map { _ in randomAddress() }))
            let owned = Set((0..<next(6)).map { _ in randomAddress().key })
            #expect(RtnlDiff.addresses(desired: wanted, observed: present, owned: owned)
                == Diff.threeWay(desired: wanted, observed: present, owned: owned, isSame: { _, _ in true }))
        }
    }
}
