@testable import LinxKernelSim
import LinxReconcile
import Testing

/// The route store answers an IPv6 gateway lookup from an index; the answer
/// must be the one walking the table's dump gives (ip6_route_check_nh as the
/// simulator models it: longest prefix, lowest metric, first in dump order).
@Suite("route store IPv6 lookup index")
struct RouteStoreIndexTests {
    /// The walk the index replaced.
    static func walked(_ store: RouteStore, _ gateway: IPAddress, table: UInt32, via ifindex: Int32?) -> Route? {
        var best: Route?
        for route in store.dump(RouteFilter(family: .ipv6, table: table))
        where route.destination.contains(gateway) && (ifindex == nil || route.ifindex == ifindex) {
            guard let current = best else {
                best = route
                continue
            }
            if (route.destination.length, current.metric) > (current.destination.length, route.metric) { best = route }
        }
        return best
    }

    @Test("seeded adds, replaces, deletes and kernel aliases: the index answers as the walk", arguments: [1, 2, 3] as [UInt64])
    func indexMatchesWalk(seed: UInt64) throws {
        var random = SimRandom(seed: seed)
        var store = RouteStore()
        // A few nested prefixes, so lengths and metrics compete; tos makes distinct keys with one destination.
        let prefixes: [IPPrefix] = try [
            IPPrefix("::/0"), IPPrefix("fd00::/16"), IPPrefix("fd00:1::/32"), IPPrefix("fd00:1:2::/64"),
            IPPrefix("fd00:1:2::7/128"), IPPrefix("fd00:9::/64"), IPPrefix("10.0.0.0/8"), IPPrefix("fe80::/64"),
        ]
        let gateways: [IPAddress] = try ["fd00:1:2::7", "fd00:1:2::8", "fd00:1:3::1", "fd00:9::1", "fe80::5", "2001:db8::1"].map {
            try IPAddress($0)
        }
        for step in 0..<1500 {
            let destination = random.pick(prefixes)
            var route = Route(
                destination: destination, gateway: random.chance(0.3) ? random.pick(gateways) : nil,
                ifindex: Int32(1 + random.below(3)), table: random.pick([254, 255, 100] as [UInt32]),
                metric: random.pick([0, 256, 1024, 10] as [UInt32]), proto: random.pick([2, 76] as [UInt8]),
                type: random.chance(0.2) ? .blackhole : .unicast)
            route.tos = random.chance(0.2) ? 8 : 0
            switch random.below(6) {
            case 0, 1: store.upsert(route)
            case 2: _ = store.insertKernel(route)
            case 3: store.remove(route.key)
            case 4: _ = store.removeKernel(route)
            default: _ = store.removeAll { $0.ifindex == route.ifindex && $0.metric == route.metric && $0.table == route.table }
            }
            for gateway in gateways {
                for table in [254, 255, 100] as [UInt32] {
                    for ifindex in [nil, 1, 2] as [Int32?] {
                        #expect(
                            store.bestIPv6(containing: gateway, table: table, via: ifindex)
                                == Self.walked(store, gateway, table: table, via: ifindex),
                            "step \(step): \(gateway) table \(table) via \(ifindex.map(String.init) ?? "any")")
                    }
                }
            }
        }
    }

    @Test("an IPv4 gateway lookup in one table answers as the lookup over all tables filtered to it", arguments: [1, 2, 3] as [UInt64])
    func perTableOnLinkMatchesFilteredLookup(seed: UInt64) throws {
        var random = SimRandom(seed: seed)
        var store = RouteStore()
        let prefixes: [IPPrefix] = try ["10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32", "10.9.0.0/16", "0.0.0.0/0", "fd00::/64"]
            .map { try IPPrefix($0) }
        let gateways: [IPAddress] = try ["10.1.2.3", "10.1.2.4", "10.9.1.1", "192.0.2.1", "fd00::1"].map { try IPAddress($0) }
        let tables: [UInt32] = [254, 255, 100, 253]
        for step in 0..<1500 {
            var route = Route(
                destination: random.pick(prefixes), gateway: random.chance(0.2) ? random.pick(gateways) : nil,
                ifindex: random.chance(0.1) ? nil : Int32(1 + random.below(3)), table: random.pick(tables),
                metric: random.pick([0, 10, 256] as [UInt32]), proto: random.pick([2, 76] as [UInt8]),
                type: random.pick([.unicast, .local, .broadcast, .blackhole] as [RouteType]))
            route.scope = random.pick([0, 253, 254] as [UInt8])
            switch random.below(6) {
            case 0, 1: store.upsert(route)
            case 2: _ = store.insertKernel(route)
            case 3: store.remove(route.key)
            case 4: _ = store.removeKernel(route)
            default: _ = store.removeAll { $0.ifindex == route.ifindex && $0.table == route.table }
            }
            for gateway in gateways {
                for table in tables {
                    for ifindex in [nil, 1, 2] as [Int32?] {
                        func accept(_ r: Route) -> Bool { (ifindex == nil || r.ifindex == ifindex) && r.scope >= 253 }
                        #expect(
                            store.firstOnLink(reaching: gateway, table: table, where: accept)
                                == store.firstOnLink(reaching: gateway, inTables: { $0 == table }, where: accept),
                            "step \(step): \(gateway) table \(table)")
                    }
                }
            }
        }
    }

    @Test("compaction renumbers the slots and the index follows")
    func compaction() throws {
        var store = RouteStore()
        var keys: [Route.Key] = []
        for i in 0..<9000 {
            let route = Route(
                destination: try IPPrefix(.v6(high: 0xFD00_0000_0000_0000 | UInt64(i) << 16, low: 0), length: 64),
                ifindex: 2, metric: UInt32(i % 3))
            store.upsert(route)
            keys.append(route.key)
        }
        // Enough deletes to compact (over 4,096 holes and more holes than routes).
        for key in keys.prefix(8000) { store.remove(key) }
        let gateway = IPAddress.v6(high: 0xFD00_0000_0000_0000 | UInt64(8500) << 16, low: 1)
        #expect(store.bestIPv6(containing: gateway, table: 254, via: nil)?.destination.address == .v6(high: 0xFD00_0000_0000_0000 | UInt64(8500) << 16, low: 0))
        #expect(store.bestIPv6(containing: gateway, table: 254, via: nil) == Self.walked(store, gateway, table: 254, via: nil))
    }
}
