import LinxKernelSim
import Testing

@testable import LinxReconcile

/// A resolution re-bound to new link indices (`RtnlNormalizer.rebound`, what
/// the pass memo does when an interface vanished and came back) against
/// resolving the same desired state again from scratch.
@Suite("Rtnl resolution re-binding")
struct RtnlRebindTests {
    static let names = ["eth0", "eth1", "eth2", "br-lan"]

    @Test("re-binding equals resolving again, for every link renumbering; nil exactly when a named link is gone")
    func reboundEqualsResolved() throws {
        var random = SimRandom(seed: 14)
        var rebound = 0, refused = 0
        for _ in 0..<4_000 {
            let desired = Self.desired(using: &random)
            let first = Self.links(using: &random, dropping: 0)
            guard let (resolved, index) = try? RtnlNormalizer.resolveIndexed(desired, links: first, options: .default) else {
                continue
            }
            let second = Self.links(using: &random, dropping: random.chance(0.2) ? 1 : 0)
            let again = Result { () throws(ReconcileError) in
                try RtnlNormalizer.resolveIndexed(desired, links: second, options: .default)
            }
            if let fast = RtnlNormalizer.rebound(resolved, index: index, to: second) {
                let (slow, slowIndex) = try again.get()
                #expect(fast.resolved == slow)
                #expect(fast.index.routes == slowIndex.routes && fast.index.routeOrder == slowIndex.routeOrder)
                #expect(fast.index.addresses == slowIndex.addresses && fast.index.addressOrder == slowIndex.addressOrder)
                rebound += 1
            } else {
                guard case .failure(.invalidDesired(_, let reason, _)) = again else {
                    Issue.record("re-binding refused a state that resolves: \(desired)")
                    continue
                }
                #expect(reason.hasPrefix("no interface named"))
                refused += 1
            }
        }
        #expect(rebound > 1_000 && refused > 100)
    }

    @Test("the pass memo hands back the re-bound resolution and remembers it")
    func memoRebinds() throws {
        var random = SimRandom(seed: 15)
        for _ in 0..<500 {
            let desired = Self.desired(using: &random)
            let first = Self.links(using: &random, dropping: 0)
            guard let (resolved, index) = try? RtnlNormalizer.resolveIndexed(desired, links: first, options: .default) else {
                continue
            }
            let memo = RtnlPassMemo()
            memo.remember(desired: desired, options: .default, links: first, resolved: resolved, index: index)
            let second = Self.links(using: &random, dropping: 0)
            let (slow, _) = try RtnlNormalizer.resolveIndexed(desired, links: second, options: .default)
            #expect(memo.resolution(desired: desired, options: .default, links: second)?.0 == slow)
            #expect(memo.resolution(desired: desired, options: .default, links: second)?.0 == slow)
            #expect(memo.resolution(desired: desired, options: .default, links: first)?.0 == resolved)
        }
    }

    /// The four links, with distinct random indices, shuffled; `dropping` of them left out.
    static func links(using random: inout SimRandom, dropping: Int) -> [Link] {
        var indices = Set<Int32>()
        while indices.count < names.count { indices.insert(Int32(random.int(in: 2...12))) }
        var shuffled = indices.sorted()
        for i in shuffled.indices.reversed() { shuffled.swapAt(i, random.below(i + 1)) }
        var links = zip(names, shuffled).map { Link(index: $1, name: $0) }
        for i in links.indices.reversed() { links.swapAt(i, random.below(i + 1)) }
        for _ in 0..<dropping { links.remove(at: random.below(links.count)) }
        return [Link(index: 1, name: "lo")] + links
    }

    /// Addresses and routes over the four names (routes with and without
    /// one), from small pools so duplicates and conflicts come up.
    static func desired(using random: inout SimRandom) -> RtnlDesiredState {
        var desired = RtnlDesiredState(addresses: [], routes: [])
        for _ in 0..<random.int(in: 0...6) {
            let address = random.chance(0.3)
                ? "fd00:\(random.below(3))::\(random.int(in: 1...3))/\(random.pick([64, 64, 80]))"
                : "10.\(random.below(3)).0.\(random.int(in: 1...3))/24"
            desired.addresses!.append(RtnlAddressEntry(interface: random.pick(names), address: address))
        }
        for _ in 0..<random.int(in: 0...8) {
            let v6 = random.chance(0.3)
            desired.routes!.append(RtnlRouteEntry(
                destination: v6 ? "fd00:200:\(random.below(4))::/64" : "10.200.\(random.below(4)).0/24",
                gateway: random.chance(0.8) ? (v6 ? "fd00:1::\(random.int(in: 1...2))" : "10.1.0.\(random.int(in: 1...2))") : nil,
                interface: random.chance(0.4) ? random.pick(names) : nil,
                table: random.chance(0.3) ? 100 : nil, metric: random.chance(0.3) ? 10 : nil))
        }
        return desired
    }
}

/// A pass that added and removed no address reports the record it was
/// planned with, as is, when every recorded address is still owned and
/// present (`RtnlPlan.record`): the same record the full computation gives.
@Suite("Rtnl ownership record kept")
struct RtnlOwnershipKeptTests {
    static let universe: [(String, IPAddress, Int)] = [
        ("eth0", .v4(0x0A01_0002), 24), ("eth0", .v4(0x0A01_0102), 24), ("eth1", .v4(0x0A02_0002), 24),
        ("eth1", .v4(0x7F00_0001), 8), ("eth0", .v6(high: 0xFD00_0001_0000_0000, low: 2), 64),
        ("eth0", .v6(high: 0xFE80_0000_0000_0000, low: 5), 64), ("gone0", .v4(0x0A03_0002), 24),
    ]

    /// Many addresses: the record is checked through a set, not pair by pair.
    static let large: [(String, IPAddress, Int)] = (0..<48).map { n in
        (n % 3 == 0 ? "eth1" : "eth0", .v4(0x0A05_0000 | UInt32(n) << 8 | 2), 24)
    }

    @Test("kept record equals the computed one", arguments: [false, true])
    func keptEqualsComputed(large: Bool) {
        var random = SimRandom(seed: large ? 17 : 16)
        let universe = large ? Self.large + Self.universe : Self.universe
        var kept = 0
        for _ in 0..<(large ? 1_000 : 5_000) {
            let links = [Link(index: 1, name: "lo"), Link(index: Int32(random.int(in: 2...4)), name: "eth0"),
                         Link(index: Int32(random.int(in: 5...7)), name: "eth1")]
            func index(_ name: String) -> Int32? { links.first { $0.name == name }?.index }
            var record = Set<RtnlLastApplied.AddressKey>()
            var observed: [InterfaceAddress] = []
            var desired: [InterfaceAddress] = []
            for (name, address, length) in universe {
                if random.chance(large ? 0.3 : 0.5) { record.insert(.init(interface: name, address: address, prefixLength: length)) }
                if let ifindex = index(name), random.chance(large ? 0.98 : 0.7) {
                    let proto: UInt8? = random.chance(large ? 0.002 : 0.2) ? random.pick([2, 90]) : nil
                    observed.append(InterfaceAddress(ifindex: ifindex, address: address, prefixLength: length, proto: proto, interfaceName: name))
                }
                if let ifindex = index(name), random.chance(0.3) {
                    desired.append(InterfaceAddress(ifindex: ifindex, address: address, prefixLength: length, interfaceName: name))
                }
            }
            var options = RtnlOptions.default
            if random.chance(0.2) { options.addressProtocol = 90 }
            if random.chance(0.2) { options.adoptExistingAddresses = true }
            let lastApplied = RtnlLastApplied(addresses: record)
            let plan = RtnlReconciler.plan(
                observed: RtnlObserved(links: links, addresses: observed, routes: []),
                desired: RtnlResolvedState(addresses: desired, routes: []), lastApplied: lastApplied, options: options)
            var added = Set<InterfaceAddress.Key>(), removed = Set<InterfaceAddress.Key>()
            if random.chance(0.3), let some = observed.randomElement(using: &random) { added.insert(some.key) }
            if random.chance(0.3), let some = observed.randomElement(using: &random) { removed.insert(some.key) }
            var computed = plan
            computed.record = nil
            let fast = RtnlReconciler.ownership(after: plan, added: added, removed: removed, options: options)
            #expect(fast == RtnlReconciler.ownership(after: computed, added: added, removed: removed, options: options))
            if plan.record != nil && added.isEmpty && removed.isEmpty && fast == lastApplied { kept += 1 }
        }
        #expect(kept > 50)
    }
}
