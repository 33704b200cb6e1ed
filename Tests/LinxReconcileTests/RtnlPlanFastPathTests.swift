import LinxKernelSim
import Testing

@testable import LinxReconcile

/// The planner's small-state path (round 6) against the plain code it
/// replaced: the ownership record computed without hash sets of keys and
/// links when the addresses are a handful.
@Suite("Rtnl plan fast paths")
struct RtnlPlanFastPathTests {
    @Test("ownership: what the plain sets of present keys and link names gave", arguments: [false, true])
    func ownershipAgrees(large: Bool) {
        var random = SimRandom(seed: large ? 71 : 70)
        let universe = large ? RtnlOwnershipKeptTests.large + RtnlOwnershipKeptTests.universe : RtnlOwnershipKeptTests.universe
        var owned = 0
        for _ in 0..<(large ? 1_000 : 6_000) {
            var links = [Link(index: 1, name: "lo"), Link(index: Int32(random.int(in: 2...4)), name: "eth0"),
                         Link(index: Int32(random.int(in: 5...7)), name: "eth1")]
            if random.chance(0.1) { links.append(Link(index: links[1].index, name: "twin0")) }  // a repeated index
            func index(_ name: String) -> Int32? { links.first { $0.name == name }?.index }
            var record = Set<RtnlLastApplied.AddressKey>()
            var observed: [InterfaceAddress] = []
            var desired: [InterfaceAddress] = []
            for (name, address, length) in universe {
                if random.chance(0.4) { record.insert(.init(interface: name, address: address, prefixLength: length)) }
                if let ifindex = index(name), random.chance(0.7) {
                    let proto: UInt8? = random.chance(0.2) ? random.pick([2, 90]) : nil
                    observed.append(InterfaceAddress(ifindex: ifindex, address: address, prefixLength: length, proto: proto, interfaceName: name))
                }
                if let ifindex = index(name), random.chance(0.3) {
                    desired.append(InterfaceAddress(ifindex: ifindex, address: address, prefixLength: length, interfaceName: name))
                }
            }
            var options = RtnlOptions.default
            if random.chance(0.2) { options.addressProtocol = 90 }
            if random.chance(0.2) { options.adoptExistingAddresses = true }
            var plan = RtnlReconciler.plan(
                observed: RtnlObserved(links: links, addresses: observed, routes: []),
                desired: RtnlResolvedState(addresses: desired, routes: []), lastApplied: RtnlLastApplied(addresses: record),
                options: options)
            if random.chance(0.5) { plan.record = nil }
            var added = Set<InterfaceAddress.Key>(), removed = Set<InterfaceAddress.Key>()
            for _ in 0..<random.int(in: 0...3) {
                let (name, address, length) = random.pick(universe)
                let key = InterfaceAddress.Key(ifindex: index(name) ?? 9, address: address, prefixLength: length)
                if random.chance(0.5) { added.insert(key) } else { removed.insert(key) }
            }
            let fast = RtnlReconciler.ownership(after: plan, added: added, removed: removed, options: options)
            #expect(fast == Self.plainOwnership(after: plan, added: added, removed: removed, options: options))
            owned += fast.addresses.count
        }
        #expect(owned > 1_000)
    }

    @Test("ownership record keys: sets of them agree with pairwise equality, equal keys hash equally")
    func addressKeyHashing() {
        var random = SimRandom(seed: 72)
        // "K" and the Kelvin sign are equal Strings with different bytes.
        let names = ["eth0", "eth1", "K", "\u{212A}", "e\u{301}", "\u{E9}"]
        var distinct = 0
        for _ in 0..<2_000 {
            var keys: [RtnlLastApplied.AddressKey] = []
            for _ in 0..<random.int(in: 0...12) {
                let address: IPAddress = random.chance(0.7)
                    ? .v4(0x0A00_0000 | UInt32(random.below(4))) : .v6(high: 0xFD00 << 48, low: UInt64(random.below(4)))
                keys.append(.init(interface: random.pick(names), address: address, prefixLength: random.pick([24, 64, 32])))
            }
            var plain: [RtnlLastApplied.AddressKey] = []
            for key in keys where !plain.contains(key) { plain.append(key) }
            let set = Set(keys)
            #expect(set.count == plain.count && plain.allSatisfy(set.contains))
            for a in keys { for b in keys where a == b { #expect(a.hashValue == b.hashValue) } }
            distinct += set.count
        }
        #expect(distinct > 5_000)
    }

    /// `ownership(after:added:removed:options:)` before round 6.
    static func plainOwnership(
        after plan: RtnlPlan, added: Set<InterfaceAddress.Key>, removed: Set<InterfaceAddress.Key>, options: RtnlOptions
    ) -> RtnlLastApplied {
        let keepsRecord = added.isEmpty && removed.isEmpty && !options.adoptExistingAddresses && plan.record != nil
        let few = plan.ownedAddresses.count * plan.observed.addresses.count <= 1_024
        if keepsRecord && few, plan.ownedAddresses.allSatisfy({ key in plan.observed.addresses.contains { $0.key == key } }) {
            return plan.record!
        }
        var present = Set<InterfaceAddress.Key>()
        for address in plan.observed.addresses { present.insert(address.key) }
        if keepsRecord && !few && plan.ownedAddresses.allSatisfy(present.contains) { return plan.record! }
        present.formUnion(added)
        present.subtract(removed)
        var names: [Int32: String] = [:]
        for link in plan.observed.links { names[link.index] = link.name }
        var owned = Set<RtnlLastApplied.AddressKey>()
        func record(_ key: InterfaceAddress.Key) {
            guard present.contains(key), let name = names[key.ifindex], !AddressProtocol.isKernels(key.address, proto: nil)
            else { return }
            owned.insert(.init(interface: name, address: key.address, prefixLength: key.prefixLength))
        }
        for key in plan.ownedAddresses { record(key) }
        for key in added { record(key) }
        if options.adoptExistingAddresses {
            for address in plan.desired.addresses { record(address.key) }
        }
        return RtnlLastApplied(addresses: owned)
    }
}
