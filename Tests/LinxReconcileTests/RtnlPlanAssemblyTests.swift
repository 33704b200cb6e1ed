import LinxKernelSim
import Testing

@testable import LinxReconcile

/// The plan's assembly (round 7: early wildcard deletes by position, address
/// deletes by loops) against the plain code it replaced, on generated
/// observations and desired states small enough that every branch is taken:
/// metric-0 IPv4 deletes moved before the creates of their prefix, primary
/// swaps with route recreates, address deletes refused at plan time.
@Suite("Rtnl plan assembly")
struct RtnlPlanAssemblyTests {
    @Test("ops and refusals are what the plain assembly gave")
    func assemblyAgrees() {
        var random = SimRandom(seed: 20_261_207)
        var early = 0, recreates = 0, refusals = 0, plain = 0
        for _ in 0..<8_000 {
            let (observed, desired, lastApplied) = Self.draw(using: &random)
            let index = RtnlDesiredIndex(desired)
            let plan = RtnlReconciler.plan(
                observed: observed, desired: desired, index: index, lastApplied: lastApplied, options: .default)
            let reference = Self.plainAssembly(observed: observed, desired: desired, index: index, lastApplied: lastApplied)
            #expect(plan.ops == reference.ops)
            #expect(plan.refused == reference.refused)
            if reference.early > 0 { early += 1 }
            if reference.recreates > 0 { recreates += 1 }
            if !reference.refused.isEmpty { refusals += 1 }
            if reference.early == 0 && reference.recreates == 0 { plain += 1 }
        }
        // Every branch was drawn, many times.
        #expect(early > 200 && recreates > 200 && refusals > 200 && plain > 1_000)
    }

    static let links = [Link(index: 1, name: "lo"), Link(index: 2, name: "eth0"), Link(index: 3, name: "eth1")]

    /// Addresses in two IPv4 subnets per link (so primaries have
    /// secondaries) and one IPv6; routes over few prefixes, two metrics and
    /// two tables (so metric-0 deletes meet creates of their prefix).
    static func draw(using random: inout SimRandom) -> (RtnlObserved, RtnlResolvedState, RtnlLastApplied) {
        var universe: [InterfaceAddress] = []
        for link in links.dropFirst() {
            for subnet in 0..<2 {
                for host in 2..<5 {
                    universe.append(InterfaceAddress(
                        ifindex: link.index, address: .v4(0x0A00_0000 | UInt32(link.index) << 16 | UInt32(subnet) << 8 | UInt32(host)),
                        prefixLength: 24, interfaceName: link.name))
                }
            }
            universe.append(InterfaceAddress(
                ifindex: link.index, address: .v6(high: 0xFD00_0000_0000_0000 | UInt64(link.index) << 32, low: 2), prefixLength: 64,
                interfaceName: link.name))
        }
        var observedAddresses: [InterfaceAddress] = []
        var desiredAddresses: [InterfaceAddress] = []
        var owned = Set<RtnlLastApplied.AddressKey>()
        for address in universe {
            if random.chance(0.5) { observedAddresses.append(address) }
            if random.chance(0.4) { desiredAddresses.append(address) }
            if random.chance(0.5) {
                owned.insert(.init(interface: address.interfaceName!, address: address.address, prefixLength: address.prefixLength))
            }
        }
        // Dump order varies which address of a subnet is its primary.
        if random.chance(0.5) { observedAddresses.reverse() }
        func route(_ n: Int, metric: UInt32, table: UInt32, via gateway: InterfaceAddress, proto: UInt8) -> Route {
            var gatewayAddress = gateway.address
            if case .v4(let value) = gateway.address { gatewayAddress = .v4(value & 0xFFFF_FF00 | 1) }
            let destination = gatewayAddress.family == .ipv4
                ? try! IPPrefix(.v4(0xC612_0000 | UInt32(n) << 8), length: 24)
                : try! IPPrefix(.v6(high: 0xFD00_0200_0000_0000 | UInt64(n) << 16, low: 0), length: 64)
            return Route(
                destination: destination, gateway: gatewayAddress, ifindex: random.chance(0.5) ? gateway.ifindex : nil,
                table: table, metric: metric, proto: proto)
        }
        var observedRoutes: [Route] = []
        var desiredRoutes: [Route] = []
        for n in 0..<4 {
            for metric: UInt32 in [0, 10] {
                let table: UInt32 = random.chance(0.7) ? RouteTable.main : 100
                if random.chance(0.45) {
                    var observedRoute = route(n, metric: metric, table: table, via: random.pick(universe), proto: random.chance(0.85) ? 76 : 4)
                    if observedRoute.ifindex == nil { observedRoute.ifindex = 2 }
                    observedRoutes.append(observedRoute)
                }
                if random.chance(0.45) {
                    let candidate = route(n, metric: metric, table: table, via: random.pick(universe), proto: 76)
                    if !desiredRoutes.contains(where: { $0.key == candidate.key }) { desiredRoutes.append(candidate) }
                }
            }
        }
        return (
            RtnlObserved(links: links, addresses: observedAddresses, routes: observedRoutes),
            RtnlResolvedState(addresses: desiredAddresses, routes: desiredRoutes),
            RtnlLastApplied(addresses: owned)
        )
    }

    /// `plan(observed:desired:index:lastApplied:options:)`'s assembly before
    /// round 7, with the default options.
    static func plainAssembly(
        observed: RtnlObserved, desired: RtnlResolvedState, index: RtnlDesiredIndex, lastApplied: RtnlLastApplied
    ) -> (ops: [ReconcileOp<RtnlObject>], refused: [ReconcileOp<RtnlObject>: KernelError], early: Int, recreates: Int) {
        let options = RtnlOptions.default
        var indices: [String: Int32] = [:]
        for link in observed.links { indices[link.name] = link.index }
        var owned = Set<InterfaceAddress.Key>()
        for key in lastApplied.addresses {
            guard !AddressProtocol.isKernels(key.address, proto: nil), let index = indices[key.interface] else { continue }
            owned.insert(.init(ifindex: index, address: key.address, prefixLength: key.prefixLength))
        }
        for address in observed.addresses where AddressProtocol.isKernels(address.address, proto: address.proto) {
            owned.remove(address.key)
        }
        let addressOps = RtnlDiff.addresses(desired: desired.addresses, index: index, observed: observed.addresses, owned: owned)
        var names: [Int32: String] = [:]
        for link in observed.links { names[link.index] = link.name }
        func named(_ route: Route) -> Route {
            var route = route
            if route.interfaceName == nil, let index = route.ifindex { route.interfaceName = names[index] }
            return route
        }
        let routeOps = RtnlDiff.routes(
            desired: desired.routes, index: index, observed: observed.routes, protocol: options.routeProtocol,
            as: { RtnlObject.route(named($0)) })
        let refused = RtnlReconciler.refusedDeletes(addressOps, observed: observed.addresses, owned: owned)
        let swap = RtnlPrimarySwap(
            addressOps: addressOps, refused: refused, observed: observed, desired: desired, index: index,
            routeOps: routeOps, routeProtocol: options.routeProtocol)
        let addressPhase = swap.interleaved(creates: addressOps.lazy.filter { !$0.isDelete }.map(\.item))
        let early = plainWildcardDeletes(routeOps, recreates: swap.routeRecreates)
        let addressDeletes = Array(
            addressOps.lazy.filter { $0.isDelete && !swap.moves($0.item) }.map { $0.rtnlMapped(RtnlObject.address) })
        var ops: [ReconcileOp<RtnlObject>]
        if addressPhase.isEmpty && addressDeletes.isEmpty && swap.routeRecreates.isEmpty && early.isEmpty {
            ops = routeOps
        } else if swap.routeRecreates.isEmpty && early.isEmpty {
            ops = routeOps
            ops.insert(contentsOf: addressPhase, at: 0)
            ops.append(contentsOf: addressDeletes.lazy.filter { refused[$0] == nil })
            ops.append(contentsOf: addressDeletes.lazy.filter { refused[$0] != nil })
        } else {
            ops = []
            ops.append(contentsOf: addressPhase)
            ops.append(contentsOf: early)
            ops.append(contentsOf: routeOps.lazy.filter { !$0.isDelete })
            for route in swap.routeRecreates { ops.append(.create(.route(named(route)))) }
            ops.append(contentsOf: routeOps.lazy.filter { $0.isDelete && !early.contains($0) })
            ops.append(contentsOf: addressDeletes.filter { refused[$0] == nil })
            ops.append(contentsOf: addressDeletes.filter { refused[$0] != nil })
        }
        return (ops, refused, early.count, swap.routeRecreates.count)
    }

    /// `wildcardDeletes(_:recreates:)` before round 7: the ops themselves.
    static func plainWildcardDeletes(
        _ routeOps: [ReconcileOp<RtnlObject>], recreates: [Route]
    ) -> [ReconcileOp<RtnlObject>] {
        struct Prefix: Hashable {
            var table: UInt32, destination: IPPrefix, tos: UInt8
            init(_ route: Route) { (table, destination, tos) = (route.table, route.destination, route.tos) }
        }
        var created = Set<Prefix>()
        for op in routeOps where !op.isDelete {
            if case .route(let route) = op.item, route.family == .ipv4, route.metric != 0 { created.insert(Prefix(route)) }
        }
        for route in recreates where route.family == .ipv4 && route.metric != 0 { created.insert(Prefix(route)) }
        return routeOps.filter { op in
            guard op.isDelete, case .route(let route) = op.item else { return false }
            return route.family == .ipv4 && route.metric == 0 && created.contains(Prefix(route))
        }
    }
}
