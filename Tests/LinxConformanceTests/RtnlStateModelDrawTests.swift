import LinxConformance
import LinxKernelSim
import LinxReconcile
import Testing

/// `RtnlStateModel` draws desired states with its texts made once and
/// splits `ADDR/LEN` without an array: the draws and the parsed keys must
/// be the ones the plain code gave (seeds keep their meaning).
@Suite("rtnl state model draws")
struct RtnlStateModelDrawTests {
    @Test("validDesired draws what the plain drawing drew, seed for seed")
    func drawsAgree() {
        for seed in 0..<3_000 as Range<UInt64> {
            var fast = SimRandom(seed: seed), plain = SimRandom(seed: seed)
            let fuzzed = seed % 2 == 0
            let a = fuzzed
                ? RtnlStateModel.validDesired(links: ["eth0", "eth1"], addresses: 2...8, routes: 20...160, using: &fast)
                : RtnlStateModel.validDesired(links: ["eth0", "eth1", "eth2"], using: &fast)
            let b = fuzzed
                ? Self.plainValidDesired(links: ["eth0", "eth1"], addresses: 2...8, routes: 20...160, using: &plain)
                : Self.plainValidDesired(links: ["eth0", "eth1", "eth2"], using: &plain)
            #expect(a == b)
            #expect(fast == plain)
        }
    }

    @Test("ADDR/LEN splits as split(separator:) splits it")
    func addressPartsAgree() {
        let pieces = ["10.0.0.1", "/", "/", "24", "", "fd00::1", "a", "//"]
        var state: UInt64 = 3
        for _ in 0..<20_000 {
            var text = ""
            for _ in 0..<Int(state % 5) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                text += pieces[Int(state >> 33) % pieces.count]
            }
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let parts = text.split(separator: "/")
            let expected = parts.count == 2 ? [String(parts[0]), String(parts[1])] : nil
            #expect(RtnlStateModel.addressParts(text).map { [String($0.0), String($0.1)] } == expected, "\(text)")
        }
    }

    /// The drawing before its texts were made once (and before its sets
    /// became bitmaps).
    static func plainValidDesired(
        links: [String], addresses: ClosedRange<Int> = 1...3, routes: ClosedRange<Int> = 0...4,
        using random: inout SimRandom
    ) -> RtnlDesiredState {
        var desired = RtnlDesiredState.empty
        var subnets: [(link: Int, subnet: Int, v6: Bool)] = []
        var taken = Set<Int>()
        for _ in 0..<random.int(in: addresses) {
            let link = random.below(links.count)
            let subnet = random.below(16)
            let v6 = random.chance(0.25)
            guard taken.insert((link * 16 + subnet) * 2 + (v6 ? 1 : 0)).inserted else { continue }
            subnets.append((link, subnet, v6))
            let host = random.int(in: 2...250)
            let text = v6
                ? "fd00:\(link + 1):\(subnet)::\(String(host, radix: 16))/64"
                : "10.\(link + 1).\(subnet).\(host)/24"
            desired.append(.address(text, on: links[link]))
        }
        var destinations = Set<Int>()
        var hasDefault = false
        for _ in 0..<random.int(in: routes) {
            let via = random.pick(subnets)
            let gateway = via.v6 ? "fd00:\(via.link + 1):\(via.subnet)::1" : "10.\(via.link + 1).\(via.subnet).1"
            let table: UInt32? = random.chance(0.3) ? 100 : nil
            let metric: UInt32? = random.chance(0.3) ? random.pick([10, 50]) : nil
            if !via.v6 && !hasDefault && random.chance(0.15) {
                hasDefault = true
                desired.append(.defaultRoute(via: gateway, table: table, metric: metric))
                continue
            }
            let destination = random.below(max(64, routes.upperBound * 4))
            guard destinations.insert(destination * 2 + (via.v6 ? 1 : 0)).inserted else { continue }
            let prefix = via.v6
                ? "fd00:200:\(String(destination, radix: 16))::/64"
                : "10.\(200 + destination / 256).\(destination % 256).0/24"
            desired.append(.route(to: prefix, via: gateway, table: table, metric: metric))
        }
        return desired
    }
}

/// `RtnlStateModel.route(of:)` reads a packed dotted-quad destination from
/// its numbers instead of formatting it as text and parsing that back: the
/// routes (and the refusals) must be the ones the text path gave.
@Suite("rtnl state model routes")
struct RtnlStateModelRouteTests {
    @Test("route(of:) gives what parsing the destination's text gave, for every kind of text")
    func routesAgree() {
        let addresses = ["10.200.1.0", "10.0.0.1", "0.0.0.0", "10.256.0.0", "010.1.0.0", "1.2.3", "fd00:200:1::", "fd00::1", "x"]
        let lengths = ["/24", "/032", "/32", "/0", "/33", "/300", "", "/", "/x", "/24/8", "/8"]
        let gateways: [String?] = [nil, "10.1.2.1", "fd00:1:2::1", "0.0.0.0", "bogus"]
        var state: UInt64 = 7
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % bound
        }
        var packed = 0
        for round in 0..<20_000 {
            let destination = round % 17 == 0 ? "default" : addresses[next(addresses.count)] + lengths[next(lengths.count)]
            let entry = RtnlRouteEntry(
                destination: destination, gateway: gateways[next(gateways.count)],
                table: next(3) == 0 ? 100 : nil, metric: next(3) == 0 ? 50 : nil)
            if entry.fastDestination != nil { packed += 1 }
            #expect(RtnlStateModel.route(of: entry, routeProtocol: 76) == Self.plainRoute(of: entry, routeProtocol: 76), "\(entry)")
        }
        #expect(packed > 1_000)
    }

    /// `route(of:)` as it was: the destination parsed from its text.
    static func plainRoute(of entry: RtnlRouteEntry, routeProtocol: UInt8) -> Route? {
        let gateway = entry.gateway.flatMap { try? IPAddress($0) }
        let destination: IPPrefix
        if entry.destination == "default" {
            guard let family = gateway?.family else { return nil }
            destination = .any(family)
        } else {
            guard let prefix = try? IPPrefix(entry.destination) else { return nil }
            destination = prefix
        }
        return Route(
            destination: destination, gateway: gateway, table: entry.table ?? RouteTable.main,
            metric: entry.metric ?? 0, proto: routeProtocol)
    }
}
