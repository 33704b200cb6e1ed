@testable import LinxKernelSim
import LinxReconcile
import Testing

/// A namespace hands out its dumps again until it changes, and stamps what
/// they show; the namespaces are found by scope in a small map. Each is
/// checked against the code it replaced: dumps made afresh from the state,
/// and a dictionary.
@Suite("namespace views, stamps and the namespace map")
struct NetnsViewsTests {
    /// What the dumps show, made afresh (the code the views replaced).
    struct Fresh: Equatable {
        var links: [Link]
        var addresses: [InterfaceAddress]
        var routes: [Route]
        var ours: [Route]

        init(_ ns: SimNetns) {
            links = ns.linkList
            addresses = ns.addressList
            routes = ns.routes.all
            ours = ns.routes.dump(RouteFilter(proto: RouteProtocol.linx))
        }
    }

    @Test("seeded requests, faults, drift, link changes and reboots: every dump equals a fresh one, a stamp names one state", arguments: [1, 2, 3, 4] as [UInt64])
    func viewsMatchFreshDumps(seed: UInt64) async throws {
        let kernel = SimKernel(seed: seed, eventBufferCapacity: 16)
        let scope = NetnsScope.named("views")
        try kernel.createNamespace(scope)
        try kernel.setLink("lo", up: true, in: scope)
        try kernel.addVethPair("v0", "v1", in: scope)
        let events = try await kernel.events(in: scope)
        defer { withExtendedLifetime(events) {} }
        kernel.arm(SimFaultPlan(rate: 0.1))
        var random = SimRandom(seed: seed)
        var seen: [UInt64: Fresh] = [:]
        var stampChanges = 0
        var last: (stamp: UInt64, fresh: Fresh)?
        for step in 0..<600 {
            let index = kernel.ifindex(of: random.pick(["v0", "v1"]), in: scope) ?? 2
            let subnet = UInt32(random.below(4))
            let address = InterfaceAddress(ifindex: index, address: .v4(0x0A00_0002 | subnet << 8), prefixLength: 24)
            let route = Route(
                destination: try IPPrefix(.v4(0x0A01_0000 | UInt32(random.below(16)) << 8), length: 24),
                gateway: .v4(0x0A00_0001 | subnet << 8), metric: random.pick([0, 10] as [UInt32]))
            switch random.below(12) {
            case 0, 1: _ = await kernel.execute([.addAddress(address)], in: scope, stopOnError: false)
            case 2: _ = await kernel.execute([.deleteAddress(address)], in: scope, stopOnError: false)
            case 3, 4: _ = await kernel.execute([.addRoute(route), .replaceRoute(route)], in: scope, stopOnError: false)
            case 5: _ = await kernel.execute([.deleteRoute(route)], in: scope, stopOnError: false)
            case 6: _ = kernel.foreign.execute([.addRoute(route)], in: scope)
            case 7: kernel.drift(steps: 2, in: scope)
            case 8: try? kernel.setLink("v0", up: random.chance(0.5), in: scope)
            case 9:
                if kernel.ifindex(of: "v0", in: scope) == nil { try kernel.addVethPair("v0", "v1", in: scope) }
                else { try? kernel.removeLink("v1", in: scope) }
            case 10 where step % 5 == 0: kernel.reboot()
            default: break
            }
            // Read through the views, each dump compared with the state right after it (a fault
            // before a dump may change the state; nothing changes it after).
            func now() -> Fresh { kernel.state.withLock { Fresh($0.namespaces[scope]!) } }
            if let links = try? await kernel.links(in: scope) { #expect(links == now().links, "step \(step)") }
            if let addresses = try? await kernel.addresses(in: scope) { #expect(addresses == now().addresses, "step \(step)") }
            if let ours = try? await kernel.routes(in: scope, matching: RouteFilter(proto: RouteProtocol.linx)) {
                #expect(ours == now().ours, "step \(step)")
            }
            let snapshot = try kernel.unsortedSnapshot(of: scope)
            let again = try kernel.unsortedSnapshot(of: scope)
            let stamp = try kernel.rtnlStamp(of: scope)
            let fresh = now()
            #expect(snapshot == SimNetnsSnapshot(links: fresh.links, addresses: fresh.addresses, routes: fresh.routes), "step \(step)")
            #expect(again == snapshot, "step \(step)")
            #expect(try kernel.rtnlStamp(of: scope) == stamp, "a read changed the stamp at step \(step)")
            if let before = seen[stamp] { #expect(before == fresh, "stamp \(stamp) named two states, step \(step)") }
            seen[stamp] = fresh
            if let last, last.fresh != fresh {
                #expect(last.stamp != stamp, "the state changed and kept its stamp at step \(step)")
            }
            if let last, last.stamp != stamp { stampChanges += 1 }
            last = (stamp, fresh)
        }
        #expect(stampChanges > 100)
        #expect(kernel.faultsFired.values.reduce(0, +) > 20)
    }

    @Test("a copied kernel keeps its template's stamps until it changes; the template does not follow")
    func copiesShareStampsUntilTheyChange() throws {
        let template = SimKernel(seed: 0)
        try template.addVethPair("a", "b")
        let stamp = try template.rtnlStamp(of: .current)
        let copy = SimKernel(copying: template, seed: 7)
        #expect(try copy.rtnlStamp(of: .current) == stamp)
        _ = copy.foreign.execute([.addAddress(InterfaceAddress(ifindex: 2, address: .v4(0x0A00_0001), prefixLength: 24))], in: .current)
        #expect(try copy.rtnlStamp(of: .current) != stamp)
        #expect(try template.rtnlStamp(of: .current) == stamp)
        let before = try template.unsortedSnapshot().addresses
        #expect(try copy.unsortedSnapshot().addresses.count == before.count + 1)
        #expect(try template.snapshot().addresses == before)
    }

    @Test("the namespace map answers as a dictionary, in place", arguments: [1, 2] as [UInt64])
    func namespaceMapMatchesDictionary(seed: UInt64) {
        let scopes: [NetnsScope] = [.current, .named("a"), .named("b"), .pid(42), .path("/proc/42/ns/net"), .path("/run/x")]
        var random = SimRandom(seed: seed)
        var map: SimNamespaceMap = [.current: SimNetns.boot(loopbackUp: true)]
        var reference: [NetnsScope: SimNetns] = [.current: SimNetns.boot(loopbackUp: true)]
        for step in 0..<2000 {
            let scope = random.pick(scopes)
            switch random.below(5) {
            case 0:
                map[scope] = SimNetns.boot(loopbackUp: false)
                reference[scope] = SimNetns.boot(loopbackUp: false)
            case 1:
                map[scope] = nil
                reference[scope] = nil
            case 2:
                let mtu = UInt32(1280 + random.below(100))
                map[scope]?.nextIndex += 1
                reference[scope]?.nextIndex += 1
                _ = try? map[scope]?.addLink(name: "x\(step)", kind: "veth", up: true, mtu: mtu)
                _ = try? reference[scope]?.addLink(name: "x\(step)", kind: "veth", up: true, mtu: mtu)
            case 3:
                if let slot = map.slot(of: scope) { map.modify(slot: slot) { $0.eventsLost += 1 } }
                reference[scope]?.eventsLost += 1
            default: break
            }
            for scope in scopes {
                #expect(map[scope]?.linkList == reference[scope]?.linkList, "step \(step) \(scope)")
                #expect(map[scope]?.eventsLost == reference[scope]?.eventsLost, "step \(step) \(scope)")
                #expect((map.slot(of: scope) != nil) == (reference[scope] != nil), "step \(step) \(scope)")
            }
            #expect(map.values.count == reference.count)
        }
    }
}
