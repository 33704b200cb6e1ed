@testable import LinxKernelSim
import LinxReconcile
import Testing

/// Fast paths of the simulator checked against what they stand for: the
/// route store's anycast count against its routes, the packed address dump
/// order against the fields it packs.
@Suite("simulator fast paths")
struct SimFastPathTests {
    @Test("the anycast count is the number of anycast routes held, through adds, deletes, forwarding, link changes", arguments: [1, 2, 3] as [UInt64])
    func anycastCountFollowsRoutes(seed: UInt64) async throws {
        let kernel = SimKernel(seed: seed)
        let scope = NetnsScope.named("anycast")
        try kernel.createNamespace(scope)
        try kernel.setLink("lo", up: true, in: scope)
        try kernel.addVethPair("v0", "v1", in: scope)
        var random = SimRandom(seed: seed)
        var most = 0
        for _ in 0..<800 {
            let name = random.pick(["v0", "v1"])
            let index = kernel.ifindex(of: name, in: scope) ?? 2
            // A few subnets and lengths, so addresses share subnet-router anycasts and /127s make none.
            let length = random.pick([64, 64, 120, 127])
            let address = InterfaceAddress(
                ifindex: index, address: .v6(high: 0xFD00_0000_0000_0000 | UInt64(random.below(3)) << 16, low: UInt64(1 + random.below(4))),
                prefixLength: length)
            switch random.below(10) {
            case 0, 1, 2: _ = kernel.foreign.execute([.addAddress(address)], in: scope)
            case 3: _ = kernel.foreign.execute([.deleteAddress(address)], in: scope)
            case 4: try? kernel.foreign.writeSysctl("net.ipv6.conf.\(name).forwarding", random.pick(["0", "1"]), in: scope)
            case 5: try? kernel.foreign.writeSysctl("net.ipv6.conf.all.forwarding", random.pick(["0", "1"]), in: scope)
            case 6:
                // Someone deletes a kernel anycast route by hand.
                let anycast = try kernel.snapshot(of: scope).routes.filter { $0.type == .anycast }
                if !anycast.isEmpty { _ = kernel.foreign.execute([.deleteRoute(random.pick(anycast))], in: scope) }
            case 7: try? kernel.setLink(name, up: random.chance(0.5), in: scope)
            case 8:
                if kernel.ifindex(of: "v0", in: scope) == nil { try kernel.addVethPair("v0", "v1", in: scope) }
                else if random.chance(0.3) { try? kernel.removeLink("v1", in: scope) }
            default:
                if random.chance(0.1) { kernel.reboot() }
            }
            let (counted, held) = try kernel.state.withLock { s throws(KernelError) in
                try s.withNetns(scope) { ns throws(KernelError) in (ns.routes.anycastCount, ns.routes.all.count { $0.type == .anycast }) }
            }
            #expect(counted == held)
            most = max(most, held)
        }
        #expect(most >= 3, "the steps made anycast routes")
    }

    /// The dump order the packed words replaced.
    static func fields(_ entry: SimAddressState) -> (UInt8, Int32, UInt8, UInt8, UInt64) {
        switch entry.address.family {
        case .ipv4:
            return (0, entry.address.ifindex, entry.secondary ? 1 : 0, entry.secondary ? 0 : UInt8.max - entry.scope, entry.rank)
        case .ipv6:
            return (1, entry.address.ifindex, 0, UInt8.max - SimAddressState.ipv6Scope(entry.address.address), UInt64.max - entry.sequence)
        }
    }

    @Test("the packed address dump order sorts as the fields do")
    func packedDumpOrder() {
        var random = SimRandom(seed: 9)
        func draw() -> SimAddressState {
            let v4 = random.chance(0.5)
            let address: IPAddress = v4
                ? .v4(UInt32(truncatingIfNeeded: random.next()))
                : .v6(high: random.pick([0, 0xFE80_0000_0000_0000, 0xFEC0_0000_0000_0000, 0xFD00_0000_0000_0000]), low: random.pick([1, 2, random.next()]))
            let index = random.pick([Int32.min, -1, 0, 1, 2, 3, 7, Int32.max])
            var entry = SimAddressState(
                address: InterfaceAddress(ifindex: index, address: address, prefixLength: v4 ? 24 : 64),
                sequence: random.pick([0, 1, 2, UInt64.max, random.next()]), rank: random.pick([0, 1, 5, UInt64.max, random.next()]))
            entry.secondary = v4 && random.chance(0.4)
            entry.scope = random.pick([0, 253, 254, 255])
            return entry
        }
        for _ in 0..<20_000 {
            let a = draw(), b = draw()
            #expect((a.dumpOrder < b.dumpOrder) == (Self.fields(a) < Self.fields(b)))
            #expect((a.dumpOrder == b.dumpOrder) == (Self.fields(a) == Self.fields(b)))
        }
    }
}
