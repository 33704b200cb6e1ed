import LinxConformance
import LinxKernelSim
import LinxReconcile
import Testing

/// The rtnl subject's per-op paths the audit runs for every op of every
/// pass (round 6) against the plain forms: the effect made without a
/// closure over the sandbox when no interface name is needed, and entries
/// hashed as one folded word.
@Suite("Rtnl subject fast paths")
struct RtnlSubjectFastPathTests {
    static func ops(using random: inout SimRandom, ifindex: Int32) -> [ReconcileOp<RtnlObject>] {
        let address = InterfaceAddress(
            ifindex: random.chance(0.8) ? ifindex : 99, address: .v4(0x0A01_0000 | UInt32(random.below(512))),
            prefixLength: random.pick([24, 32]), proto: random.chance(0.2) ? 90 : nil,
            interfaceName: random.chance(0.5) ? random.pick(["eth0", "eth1"]) : nil)
        let route = Route(
            destination: try! IPPrefix(.v4(0x0AC8_0000 | UInt32(random.below(64)) << 8), length: 24),
            gateway: .v4(0x0A01_0001), table: random.chance(0.3) ? 100 : RouteTable.main, metric: random.pick([0, 10]))
        let item: RtnlObject = random.chance(0.5) ? .address(address) : .route(route)
        return [.create(item), .delete(item), .update(item, previous: item)]
    }

    @Test("the subject's effect is the model's with the sandbox's link names")
    func effectAgrees() async throws {
        let subject = RtnlSimSubject()
        let sandbox = try await subject.makeSandbox(seed: 3)
        let ifindex = try #require(sandbox.kernel.ifindex(of: "eth1", in: sandbox.scope))
        var random = SimRandom(seed: 33)
        var named = 0
        for _ in 0..<3_000 {
            for op in Self.ops(using: &random, ifindex: ifindex) {
                let fast = subject.effect(of: op, in: sandbox)
                let plain = RtnlStateModel.effect(of: op) { sandbox.kernel.linkName(of: $0, in: sandbox.scope) }
                #expect(fast.sets == plain.sets && fast.removes == plain.removes && fast.mayChange == plain.mayChange, "\(op)")
                if RtnlStateModel.effectNamesLink(op) { named += 1 }
            }
        }
        #expect(named > 500)
    }

    @Test("side effects are looked for exactly on IPv4 address deletes, and found there")
    func sideEffectsGuard() async throws {
        let subject = RtnlSimSubject()
        let sandbox = try await subject.makeSandbox(seed: 4)
        let eth0 = try #require(sandbox.kernel.ifindex(of: "eth0", in: sandbox.scope))
        let primary = InterfaceAddress(ifindex: eth0, address: .v4(0x0A01_0002), prefixLength: 24, interfaceName: "eth0")
        try sandbox.kernel.foreign.addAddress(primary, in: sandbox.scope)
        try sandbox.kernel.foreign.addAddress(
            InterfaceAddress(ifindex: eth0, address: .v6(high: 0xFD00_0001_0000_0000, low: 2), prefixLength: 64), in: sandbox.scope)
        let before = try await subject.snapshot(of: sandbox)
        var random = SimRandom(seed: 44)
        var found = 0
        for _ in 0..<2_000 {
            for op in Self.ops(using: &random, ifindex: eth0) + [.delete(.address(primary))] {
                let plain: Bool
                if case .delete(.address(let address)) = op { plain = address.family == .ipv4 } else { plain = false }
                #expect(RtnlStateModel.mayFlush(op) == plain, "\(op)")
                let effects = subject.sideEffects(of: op, before: before, in: sandbox)
                if !plain { #expect(effects.isEmpty) }
                if !effects.isEmpty { found += 1 }
            }
        }
        // The primary's delete flushes the address itself (its subnet's members).
        #expect(found >= 2_000)
    }

    @Test("equal entries hash equally and distinct ones rarely share a hash")
    func entryHashes() {
        var random = SimRandom(seed: 34)
        var entries: [RtnlEntry] = []
        for _ in 0..<4_000 {
            let host = random.chance(0.1)
            if random.chance(0.4) {
                let address: IPAddress = random.chance(0.3)
                    ? .v6(high: 0xFD00_0000_0000_0000 | UInt64(random.below(16)) << 32, low: UInt64(random.below(300)))
                    : .v4(0x0A00_0000 | UInt32(random.below(1 << 16)))
                entries.append(.address(
                    host: host, interface: random.pick(["eth0", "eth1"]), address: address, prefixLength: random.pick([24, 64, 128])))
            } else {
                let prefix = random.chance(0.3)
                    ? try! IPPrefix(.v6(high: 0xFD00_0200_0000_0000 | UInt64(random.below(1 << 12)) << 16, low: 0), length: 64)
                    : try! IPPrefix(.v4(0x0AC8_0000 | UInt32(random.below(1 << 12)) << 8), length: 24)
                entries.append(.route(host: host, key: Route.Key(
                    table: random.pick([254, 100]), destination: prefix, tos: random.chance(0.1) ? 4 : 0,
                    metric: random.pick([0, 10, 50, 1024]))))
            }
        }
        var distinct = Set<RtnlEntry>()
        var hashes = Set<Int>()
        for entry in entries {
            // An independently built equal entry hashes as it does.
            let copy: RtnlEntry
            switch entry {
            case .address(let host, let interface, let address, let length):
                copy = .address(host: host, interface: String(interface.utf8.map { Character(UnicodeScalar($0)) }), address: address, prefixLength: length)
            case .route(let host, let key):
                copy = .route(host: host, key: Route.Key(table: key.table, destination: key.destination, tos: key.tos, metric: key.metric))
            }
            #expect(copy.hashValue == entry.hashValue)
            if distinct.insert(entry).inserted { hashes.insert(entry.hashValue) }
        }
        #expect(distinct.count > 3_000)
        // Only an address's interface name is left out of the hash; a field
        // left out by mistake (the metric, say) would collide percents.
        #expect(hashes.count * 1_000 >= distinct.count * 998)
    }
}
