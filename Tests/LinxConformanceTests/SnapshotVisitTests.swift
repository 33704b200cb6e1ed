@testable import LinxConformance
import LinxKernelSim
import LinxReconcile
import Testing

/// The rtnl sim subject reads its snapshots by visiting the simulator's
/// namespaces in place; every reading must equal the path it replaced (the
/// namespaces' unsorted dumps keyed into entries, a link's routes found in
/// the scope's dump).
@Suite("rtnl sim subject: snapshots read in place")
struct SnapshotVisitTests {
    /// The path before: both namespaces' unsorted dumps into entries.
    static func dumpedEntries(_ sandbox: SimSandbox<NetnsScope>) throws -> [RtnlEntry: RtnlValue] {
        var entries: [RtnlEntry: RtnlValue] = [:]
        RtnlSimSubject.add(try sandbox.kernel.unsortedSnapshot(of: sandbox.scope), host: false, to: &entries)
        RtnlSimSubject.add(try sandbox.kernel.unsortedSnapshot(of: .current), host: true, to: &entries)
        return entries
    }

    /// The path before: the IPv4 routes out through `link` (not the kernel's), from the scope's dump.
    static func dumpedRoutes(through link: String, _ dump: SimNetnsSnapshot) -> [Route.Key]? {
        guard let index = dump.links.first(where: { $0.name == link })?.index else { return nil }
        return dump.routes.filter { $0.ifindex == index && $0.family == .ipv4 && $0.proto != RouteProtocol.kernel }.map(\.key)
    }

    /// A random change to the scope or the host namespace, from small pools
    /// so that adds, replaces, deletes, secondaries, shared kernel keys and
    /// flushes meet.
    static func change(_ sandbox: SimSandbox<NetnsScope>, _ random: inout SimRandom) {
        let kernel = sandbox.kernel
        let scope: NetnsScope = random.chance(0.8) ? sandbox.scope : .current
        let names = scope == .current ? ["lo"] : ["lo", "eth0", "eth1"]
        let link = random.pick(names)
        let index = kernel.ifindex(of: link, in: scope) ?? 99
        let v4 = IPAddress.v4(0x0A01_0000 | UInt32(random.below(3)) << 8 | UInt32(1 + random.below(4)))
        let v6 = random.chance(0.2)
            ? IPAddress.v6(high: 0xFE80_0000_0000_0000, low: UInt64(1 + random.below(3)))
            : IPAddress.v6(high: 0xFD00_0000_0000_0000 | UInt64(random.below(2)) << 16, low: UInt64(1 + random.below(3)))
        let address = random.chance(0.6)
            ? InterfaceAddress(ifindex: index, address: v4, prefixLength: random.pick([24, 24, 32, 16]))
            : InterfaceAddress(ifindex: index, address: v6, prefixLength: random.pick([64, 64, 128]))
        let v4Route = Route(
            destination: try! IPPrefix(.v4(0x0A01_0000 | UInt32(random.below(3)) << 8), length: 24),
            gateway: random.chance(0.5) ? .v4(0x0A01_0001 | UInt32(random.below(3)) << 8) : nil,
            ifindex: random.chance(0.7) ? index : nil, table: random.pick([254, 254, 100, 255]),
            metric: UInt32(random.pick([0, 0, 10, 256])), proto: random.pick([RouteProtocol.linx, 4, RouteProtocol.kernel]),
            scope: random.chance(0.5) ? 253 : 0, type: random.chance(0.9) ? .unicast : .blackhole)
        let v6Route = Route(
            destination: try! IPPrefix(.v6(high: 0xFD00_0000_0000_0000 | UInt64(random.below(3)) << 16, low: 0), length: 64),
            gateway: random.chance(0.5) ? .v6(high: 0xFD00_0000_0000_0000, low: 1) : nil, ifindex: index,
            table: random.pick([254, 100]), metric: UInt32(random.pick([0, 1024, 10])),
            proto: random.pick([RouteProtocol.linx, 4, RouteProtocol.kernel]))
        let route = random.chance(0.6) ? v4Route : v6Route
        switch random.below(20) {
        case 0..<4: _ = kernel.foreign.execute([.addAddress(address)], in: scope)
        case 4..<6: _ = kernel.foreign.execute([.deleteAddress(address)], in: scope)
        case 6..<10: _ = kernel.foreign.execute([.addRoute(route)], in: scope)
        case 10: _ = kernel.foreign.execute([.replaceRoute(route)], in: scope)
        case 11..<13: _ = kernel.foreign.execute([.deleteRoute(route)], in: scope)
        case 13: try? kernel.setLink(link, up: random.chance(0.5), in: scope)
        case 14:
            // A link vanishes and comes back under a new index, as fuzzing's repair does.
            if link != "lo" {
                try? kernel.removeLink(link, in: scope)
                if random.chance(0.7) { _ = try? kernel.addLink(link, kind: "veth", up: true, in: scope) }
            } else {
                for name in ["eth0", "eth1"] where kernel.ifindex(of: name, in: sandbox.scope) == nil {
                    _ = try? kernel.addLink(name, kind: "veth", up: true, in: sandbox.scope)
                }
            }
        case 15: kernel.drift(steps: 1 + random.below(3), in: scope)
        case 16:
            let key = random.pick(["net/ipv6/conf/\(link)/forwarding", "net/ipv4/conf/\(link)/promote_secondaries"])
            try? kernel.foreign.writeSysctl(key, random.pick(["0", "1"]), in: scope)
        case 17:
            if random.chance(0.15) { kernel.reboot() }
        default:
            // A burst, past the change logs' limit now and then.
            for _ in 0..<(random.chance(0.2) ? 300 : 8) {
                let destination = try! IPPrefix(.v4(0xC612_0000 | UInt32(random.below(64)) << 8), length: 24)
                let request = Route(destination: destination, ifindex: index, table: 254, proto: 4, scope: 253)
                _ = kernel.foreign.execute([random.chance(0.6) ? .addRoute(request) : .deleteRoute(request)], in: scope)
            }
        }
    }

    @Test("every reading equals the dumps keyed into entries, over seeded random changes", arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func readingEqualsDumps(seed: UInt64) async throws {
        let subject = RtnlSimSubject()
        let sandbox = try await subject.makeSandbox(seed: seed)
        var random = SimRandom(seed: seed)
        var routes = 0
        var flushable = 0
        for step in 0..<300 {
            for _ in 0..<(1 + random.below(3)) { Self.change(sandbox, &random) }
            let snapshot = try RtnlSimSubject.readSnapshot(of: sandbox)
            #expect(snapshot.entries == (try Self.dumpedEntries(sandbox)), "seed \(seed) step \(step)")
            let dump = try sandbox.kernel.unsortedSnapshot(of: sandbox.scope)
            let devices = try #require(sandbox.memo.dump(behind: snapshot.reading, as: RtnlRouteDevices.self))
            for link in ["lo", "eth0", "eth1", "eth9"] {
                let expected = Self.dumpedRoutes(through: link, dump)
                #expect(devices.routes(through: link) == expected, "seed \(seed) step \(step) link \(link)")
                flushable += expected?.count ?? 0
            }
            routes += snapshot.entries.keys.filter { if case .route = $0 { true } else { false } }.count
        }
        #expect(routes > 3000 && flushable > 300, "routes \(routes), routes through a link \(flushable)")
    }
}
