import LinxKernelSim
import LinxReconcile

/// What the rtnl subjects know about rtnl desired states, whatever the
/// backend: how to draw valid ones, which are invalid, and what a scope that
/// satisfies one holds. Shared so the simulated and the real-kernel subject
/// test one and the same thing.
package enum RtnlStateModel {
    /// One address the model owns, parsed from a desired entry.
    public struct AddressKey: Hashable, Sendable {
        public var interface: String
        public var address: IPAddress
        public var prefixLength: Int
    }

    /// A random consistent desired state: 1-3 addresses on `links`, each on
    /// its own subnet, and up to 4 routes through gateways on those subnets
    /// (so every route is reachable and no route outlives its address).
    public static func validDesired(
        links: [String], addresses: ClosedRange<Int> = 1...3, routes: ClosedRange<Int> = 0...4,
        using random: inout SimRandom
    ) -> RtnlDesiredState {
        var desired = RtnlDesiredState.empty
        var subnets: [(link: Int, subnet: Int, v6: Bool)] = []
        // Bitmaps, not sets of Int: fuzzing draws thousands of these.
        var taken = [Bool](repeating: false, count: links.count * 32)
        for _ in 0..<random.int(in: addresses) {
            let link = random.below(links.count)
            let subnet = random.below(16)
            let v6 = random.chance(0.25)
            let slot = (link * 16 + subnet) * 2 + (v6 ? 1 : 0)
            guard !taken[slot] else { continue }
            taken[slot] = true
            subnets.append((link, subnet, v6))
            let host = random.int(in: 2...250)
            let text = v6
                ? "fd00:\(link + 1):\(subnet)::\(String(host, radix: 16))/64"
                : "10.\(link + 1).\(subnet).\(host)/24"
            // Into the list itself, not through `Entry` (an enum made and
            // taken apart per entry): `.empty` holds both lists.
            desired.addresses!.append(RtnlAddressEntry(interface: links[link], address: text))
        }
        let destinationCount = max(64, routes.upperBound * 4)
        var destinations = [Bool](repeating: false, count: destinationCount * 2)
        var hasDefault = false
        for _ in 0..<random.int(in: routes) {
            let via = random.pick(subnets)
            let gateway = gatewayText(link: via.link, subnet: via.subnet, v6: via.v6)
            let table: UInt32? = random.chance(0.3) ? 100 : nil
            let metric: UInt32? = random.chance(0.3) ? random.pick([10, 50]) : nil
            if !via.v6 && !hasDefault && random.chance(0.15) {
                hasDefault = true
                desired.append(.defaultRoute(via: gateway, table: table, metric: metric))
                continue
            }
            let destination = random.below(destinationCount)
            let slot = destination * 2 + (via.v6 ? 1 : 0)
            guard !destinations[slot] else { continue }
            destinations[slot] = true
            // From an entry whose destination was parsed once (packed), not
            // parsed again per draw; the same entry `.route(to:via:...)` makes.
            var route = destinationEntry(destination, v6: via.v6)
            route.gateway = gateway
            route.table = table
            route.metric = metric
            desired.routes!.append(route)
        }
        return desired
    }

    /// The gateway ``validDesired(links:addresses:routes:using:)`` writes for
    /// a subnet: its `.1` (`::1`).
    static func gatewayText(link: Int, subnet: Int, v6: Bool) -> String {
        guard link < 8 else { return gatewayTexts(link: link, subnet: subnet, v6: v6) }
        return gatewayTable[(link * 16 + subnet) * 2 + (v6 ? 1 : 0)]
    }

    /// The route destination ``validDesired(links:addresses:routes:using:)``
    /// writes for a destination number.
    static func destinationText(_ destination: Int, v6: Bool) -> String {
        guard destination < 1_024 else { return destinationTexts(destination, v6: v6) }
        return destinationTable[destination * 2 + (v6 ? 1 : 0)]
    }

    /// A route entry to `destinationText(_:v6:)`, with nothing else set yet.
    static func destinationEntry(_ destination: Int, v6: Bool) -> RtnlRouteEntry {
        guard destination < 1_024 else { return RtnlRouteEntry(destination: destinationTexts(destination, v6: v6)) }
        // An IPv4 destination from its number, as its text parses: the table
        // of entries (72 bytes each) missed the cache on most draws.
        guard v6 else {
            return RtnlRouteEntry(
                ipv4Destination: 10 << 24 | UInt32(200 + destination / 256) << 16 | UInt32(destination % 256) << 8, length: 24)
        }
        return v6DestinationEntries[destination]
    }

    // The texts are made once, not per draw: fuzzing draws thousands of
    // desired states of up to 160 routes, and formatting them was most of
    // the drawing.
    private static let gatewayTable = (0..<8 * 16 * 2).map { gatewayTexts(link: $0 / 32, subnet: $0 / 2 % 16, v6: $0 % 2 == 1) }
    private static let destinationTable = (0..<1_024 * 2).map { destinationTexts($0 / 2, v6: $0 % 2 == 1) }
    private static let v6DestinationEntries = (0..<1_024).map { RtnlRouteEntry(destination: destinationTable[$0 * 2 + 1]) }

    private static func gatewayTexts(link: Int, subnet: Int, v6: Bool) -> String {
        v6 ? "fd00:\(link + 1):\(subnet)::1" : "10.\(link + 1).\(subnet).1"
    }

    private static func destinationTexts(_ destination: Int, v6: Bool) -> String {
        v6 ? "fd00:200:\(String(destination, radix: 16))::/64" : "10.\(200 + destination / 256).\(destination % 256).0/24"
    }

    /// Desired states rtnl must refuse, one rule each.
    public static func invalidDesired(link: String) -> [InvalidDesired<RtnlDesiredState>] {
        [
            InvalidDesired("unknown interface", [.address("10.9.0.2/24", on: "nosuch0")]),
            InvalidDesired("unparseable address", [.address("10.9.0.256/24", on: link)]),
            InvalidDesired("prefix length out of range", [.address("10.9.0.2/33", on: link)]),
            InvalidDesired(
                "route destination with host bits set",
                [.address("10.9.0.2/24", on: link), .route(to: "10.201.0.5/24", via: "10.9.0.1")]),
            InvalidDesired(
                "route family differs from its gateway's",
                [.address("10.9.0.2/24", on: link), .route(to: "10.201.0.0/24", via: "fd00:9::1")]),
            InvalidDesired(
                "the same route twice with different gateways",
                [
                    .address("10.9.0.2/24", on: link), .route(to: "10.201.0.0/24", via: "10.9.0.1"),
                    .route(to: "10.201.0.0/24", via: "10.9.0.3"),
                ]),
        ]
    }

    /// The owned address keys a desired state names.
    public static func addressKeys(of desired: RtnlDesiredState) -> [AddressKey] {
        (desired.addresses ?? []).compactMap { entry in
            guard let (addressText, lengthText) = addressParts(entry.address),
                let address = try? IPAddress(String(addressText)), let length = Int(lengthText)
            else { return nil }
            return AddressKey(interface: entry.interface, address: address, prefixLength: length)
        }
    }

    /// The two parts of `ADDR/LEN`, as splitting on '/' (empty parts left
    /// out) finds them when it finds exactly two; nil otherwise.
    package static func addressParts(_ text: String) -> (Substring, Substring)? {
        // One '/' between two non-empty parts is the usual text: no array of parts.
        if let slash = text.utf8.firstIndex(of: UInt8(ascii: "/")), slash != text.utf8.startIndex {
            let rest = text.utf8[text.utf8.index(after: slash)...]
            if !rest.isEmpty && !rest.contains(UInt8(ascii: "/")) {
                return (text[..<slash], text[text.utf8.index(after: slash)...])
            }
        }
        let parts = text.split(separator: "/")
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }

    /// The route a desired entry becomes, as the kernel keys and stores it.
    public static func route(of entry: RtnlRouteEntry, routeProtocol: UInt8) -> Route? {
        let gateway = entry.gateway.flatMap { try? IPAddress($0) }
        let destination: IPPrefix
        // A dotted quad is read from its packed form: `destination` would
        // format it as text for IPPrefix to parse back (the same numbers and
        // checks: IPPrefix reads such text with this very parser).
        if let fast = entry.fastDestination {
            guard let prefix = try? IPPrefix(.v4(fast.address), length: fast.length ?? 32) else { return nil }
            destination = prefix
        } else if entry.destination == "default" {
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

    /// The snapshot entries a scope satisfying `desired` holds.
    public static func expectedEntries(for desired: RtnlDesiredState, routeProtocol: UInt8) -> [RtnlEntry: RtnlValue] {
        var entries: [RtnlEntry: RtnlValue] = [:]
        entries.reserveCapacity((desired.addresses?.count ?? 0) + (desired.routes?.count ?? 0))
        for key in addressKeys(of: desired) {
            entries[.address(host: false, interface: key.interface, address: key.address, prefixLength: key.prefixLength)] =
                RtnlValue.address(proto: nil)
        }
        for entry in desired.routes ?? [] {
            guard let route = route(of: entry, routeProtocol: routeProtocol) else { continue }
            entries[.route(host: false, key: route.key)] = RtnlValue(route)
        }
        return entries
    }

    /// What an rtnl op does, in snapshot terms. `name` resolves an ifindex
    /// when the op's object carries no interface name.
    public static func effect(of op: ReconcileOp<RtnlObject>, name: (Int32) -> String?) -> OpEffect<RtnlEntry, RtnlValue> {
        // The op matched in place, its item bound straight from its case:
        // `op.item` copied the item out through the op's value witnesses
        // (the audit asks for the effect of every op of every pass).
        func key(_ address: InterfaceAddress) -> RtnlEntry {
            .address(
                host: false, interface: address.interfaceName ?? name(address.ifindex) ?? "#\(address.ifindex)",
                address: address.address, prefixLength: address.prefixLength)
        }
        switch op {
        case .create(.address(let address)), .update(.address(let address), _):
            return OpEffect(setting: key(address), to: RtnlValue(address))
        case .delete(.address(let address)):
            return OpEffect(removing: key(address))
        case .create(.route(let route)), .update(.route(let route), _):
            return OpEffect(setting: .route(host: false, key: route.key), to: RtnlValue(route))
        case .delete(.route(let route)):
            return OpEffect(removing: .route(host: false, key: route.key))
        }
    }

    /// Whether `effect(of:name:)` calls its `name` for `op`: for an
    /// address without its interface's name.
    package static func effectNamesLink(_ op: ReconcileOp<RtnlObject>) -> Bool {
        // Matched in place and asked of the packed name (no item copied
        // out of the op, no String made from the name only to compare it
        // with nil).
        switch op {
        case .create(.address(let address)), .update(.address(let address), _), .delete(.address(let address)):
            address.packedName.isAbsent
        case .create(.route), .update(.route, _), .delete(.route):
            false
        }
    }

    /// Whether `sideEffects(of:before:name:routesThrough:holdsNow:)` can
    /// find anything for `op`: only an IPv4 address's delete flushes.
    package static func mayFlush(_ op: ReconcileOp<RtnlObject>) -> Bool {
        guard case .delete(.address(let deleted)) = op else { return false }
        return deleted.family == .ipv4
    }

    /// What the kernel flushes when an op deletes an IPv4 address (with
    /// `promote_secondaries` off, as by default): if it was its subnet's
    /// primary, the subnet's secondaries; the routes whose gateway lies in
    /// the subnet, which lose their way out when the subnet's last address
    /// goes; and, when it was the link's last IPv4 address, every IPv4 route
    /// out through the link (fib_disable_ip; the simulator models it after
    /// Linux 6.18, where only the last address's delete flushed them). Which
    /// one was primary is not in a snapshot, so every address of the subnet
    /// on the link counts.
    ///
    /// A snapshot does not record a route's device, so the last flush needs
    /// the subject's help: `routesThrough` names the IPv4 routes `before`
    /// held out through a link (nil when the subject cannot tell), and
    /// `holdsNow` whether the scope still holds an entry of `before`. The
    /// link may have lost its last IPv4 address only when none of its other
    /// subnets' addresses is still there (the pass's other ops may have
    /// deleted them before this one).
    public static func sideEffects(
        of op: ReconcileOp<RtnlObject>, before: ScopeSnapshot<RtnlEntry, RtnlValue>, name: (Int32) -> String?,
        routesThrough: (_ link: String) -> [Route.Key]? = { _ in nil },
        holdsNow: (RtnlEntry) -> Bool = { _ in true }
    ) -> Set<RtnlEntry> {
        guard mayFlush(op), case .delete(.address(let deleted)) = op,
            let subnet = try? IPPrefix(deleted.address.masked(to: deleted.prefixLength), length: deleted.prefixLength)
        else { return [] }
        let link = deleted.interfaceName ?? name(deleted.ifindex)
        var flushed = Set<RtnlEntry>()
        var keepsIPv4 = false
        for (entry, value) in before.entries {
            switch (entry, value) {
            case (.address(false, let interface, let address, let length), _) where interface == link:
                if length == deleted.prefixLength && subnet.contains(address) {
                    flushed.insert(entry)
                } else if address.family == .ipv4 && !keepsIPv4 {
                    keepsIPv4 = holdsNow(entry)
                }
            case (.route(false, _), .route(let gateway?, _, _)):
                if subnet.contains(gateway) { flushed.insert(entry) }
            default:
                break
            }
        }
        if !keepsIPv4, let link, let routes = routesThrough(link) {
            for key in routes { flushed.insert(.route(host: false, key: key)) }
        }
        return flushed
    }

    /// Takes out one route, or an address no remaining route goes through;
    /// a route when every address carries one (nil only for a state with
    /// neither, which ``validDesired(links:addresses:routes:using:)`` never
    /// draws).
    public static func release(from desired: RtnlDesiredState, using random: inout SimRandom)
        -> Release<RtnlDesiredState, RtnlEntry, RtnlValue>?
    {
        let routes = desired.routes ?? [], addresses = desired.addresses ?? []
        func releaseRoute() -> Release<RtnlDesiredState, RtnlEntry, RtnlValue>? {
            var rest = desired
            let gone = rest.routes!.remove(at: random.below(routes.count))
            guard let route = route(of: gone, routeProtocol: RouteProtocol.linx) else { return nil }
            return Release("\(gone)", desired: rest, expected: [.route(host: false, key: route.key): nil])
        }
        if !routes.isEmpty && (addresses.count < 2 || random.chance(0.6)) { return releaseRoute() }
        let gateways = routes.compactMap { $0.gateway.flatMap { try? IPAddress($0) } }
        let keys = addressKeys(of: desired)
        let free = keys.indices.filter { index in
            let key = keys[index]
            guard let subnet = try? IPPrefix(key.address.masked(to: key.prefixLength), length: key.prefixLength) else {
                return false
            }
            return !gateways.contains { subnet.contains($0) }
        }
        // Every address is some route's way out (conformance seed 17 drew two
        // addresses, each with a route through it): release a route instead.
        guard !free.isEmpty else { return routes.isEmpty ? nil : releaseRoute() }
        let index = random.pick(free)
        let key = keys[index]
        var rest = desired
        rest.addresses!.remove(at: index)
        return Release(
            "\(addresses[index])", desired: rest,
            expected: [.address(host: false, interface: key.interface, address: key.address, prefixLength: key.prefixLength): nil])
    }

    /// What an rtnl Source owns after a pass, in snapshot terms: the
    /// addresses `lastApplied` records, those `scope` holds with
    /// `options.addressProtocol` (when set), and the routes `scope` holds
    /// with `options.routeProtocol` (a route's ownership record is its
    /// `rtm_protocol`, not lastApplied). Only the scope's own namespace
    /// counts: a tagged object in the host's is never the Source's.
    public static func ownedEntries(
        in lastApplied: RtnlLastApplied, scope: ScopeSnapshot<RtnlEntry, RtnlValue>, options: RtnlOptions
    ) -> Set<RtnlEntry> {
        var owned = Set<RtnlEntry>()
        for key in lastApplied.addresses {
            owned.insert(.address(host: false, interface: key.interface, address: key.address, prefixLength: key.prefixLength))
        }
        for (entry, value) in scope.entries {
            switch (entry, value) {
            case (.address(false, _, _, _), .address(let proto?)) where proto == options.addressProtocol:
                owned.insert(entry)
            case (.route(false, _), .route(_, let proto, _)) where proto == options.routeProtocol:
                owned.insert(entry)
            default:
                break
            }
        }
        return owned
    }

    /// One piece of foreign state to create.
    public enum ForeignStep: Sendable {
        case address(InterfaceAddress)
        case route(Route)
    }

    /// Foreign state disjoint from anything ``validDesired(links:using:)``
    /// draws: a 192.168.n.x/24 address, a static route through it, and a
    /// boot-protocol device route in table 100.
    public static func foreignSteps(links: [String], index: (String) -> Int32?, using random: inout SimRandom) -> [ForeignStep] {
        guard let ifindex = index(random.pick(links)) else { return [] }
        let subnet = UInt32(random.below(250))
        let host = UInt32(random.int(in: 2...250))
        var steps: [ForeignStep] = [
            .address(InterfaceAddress(ifindex: ifindex, address: .v4(0xC0A8_0000 | subnet << 8 | host), prefixLength: 24))
        ]
        if random.chance(0.7), let destination = try? IPPrefix(.v4(0xAC10_0000 | UInt32(random.below(250)) << 8), length: 24) {
            steps.append(.route(Route(
                destination: destination, gateway: .v4(0xC0A8_0000 | subnet << 8 | 1), ifindex: ifindex,
                proto: RouteProtocol.static)))
        }
        if random.chance(0.5), let destination = try? IPPrefix(.v4(0xC612_0000 | UInt32(random.below(250)) << 8), length: 24) {
            steps.append(.route(Route(
                destination: destination, ifindex: ifindex, table: 100, proto: RouteProtocol.boot, scope: 253)))
        }
        return steps
    }
}
