/// A desired state checked and resolved against one link list: the exact
/// addresses and routes the kernel should hold, indices filled in.
public struct RtnlResolvedState: Sendable, Hashable {
    /// Desired addresses, duplicates removed, in the order written.
    public var addresses: [InterfaceAddress]
    /// Desired routes, tagged with the ownership protocol, duplicates removed.
    public var routes: [Route]
    /// The kinds the desired state manages (see ``RtnlDesiredState/managed``):
    /// a pass neither creates nor deletes objects of another kind.
    public var managed: RtnlKinds

    /// A resolved state.
    public init(addresses: [InterfaceAddress], routes: [Route], managed: RtnlKinds = .all) {
        self.addresses = addresses
        self.routes = routes
        self.managed = managed
    }
}

/// Turns an ``RtnlDesiredState`` into kernel objects, refusing anything the
/// kernel would refuse or silently change, so a pass never applies half of
/// an invalid state. Every error names the entry as written and its position.
public enum RtnlNormalizer {
    /// Validates and resolves `desired`.
    ///
    /// - Parameters:
    ///   - desired: the state as written.
    ///   - links: the namespace's links, observed in this pass (names are
    ///     resolved against them, never against a stale list).
    ///   - options: the ownership tags stamped on what will be created.
    /// - Throws: ``ReconcileError/invalidDesired(entry:reason:path:)`` for an
    ///   unknown interface, an unparseable address, a family mismatch, host
    ///   bits in a route destination, a prefix length out of range, or the
    ///   same identity written twice with different values.
    public static func resolve(
        _ desired: RtnlDesiredState, links: [Link], options: RtnlOptions = .default
    ) throws(ReconcileError) -> RtnlResolvedState {
        try resolveIndexed(desired, links: links, options: options).resolved
    }

    /// Resolves `desired` and indexes it by kernel key in the same sweep
    /// (the duplicate check needs that table anyway).
    static func resolveIndexed(
        _ desired: RtnlDesiredState, links: [Link], options: RtnlOptions
    ) throws(ReconcileError) -> (resolved: RtnlResolvedState, index: RtnlDesiredIndex) {
        let indices = indices(of: links)
        let addresses = try addresses(desired.addresses ?? [], indices: indices, options: options)
        let routes = try routes(desired.routes ?? [], indices: indices, options: options)
        return (
            RtnlResolvedState(addresses: addresses.items, routes: routes.items, managed: desired.managed),
            RtnlDesiredIndex(routes: routes.table, addresses: addresses.table)
        )
    }

    /// `resolved` (resolved against some link list, indexed as `index`)
    /// as resolving the same desired state against `links` would give it,
    /// without parsing it again; nil when an interface it names is not in
    /// `links` (resolving again then says which).
    ///
    /// Links decide a resolution only through the name -> index map, and
    /// only for the names the desired state uses: with every one of them
    /// still present, each check passes as before, and every identity
    /// comparison (duplicates, an IPv6 address on one interface twice)
    /// answers as before, because distinct links have distinct names and
    /// distinct indices. So only the indices change: the addresses' and the
    /// named routes', and the address keys (which hold the index) with
    /// their order. Route keys hold no index: their table and order stay.
    /// A vanished and re-created interface (a new index, same name) then
    /// costs a pass a few lookups, not a new parse of every entry.
    static func rebound(
        _ resolved: RtnlResolvedState, index: RtnlDesiredIndex, to links: [Link]
    ) -> (resolved: RtnlResolvedState, index: RtnlDesiredIndex)? {
        let indices = indices(of: links)
        var result = resolved
        for position in result.addresses.indices {
            // Every resolved address carries the interface name it was written with.
            guard let name = result.addresses[position].interfaceName, let ifindex = indices[name] else { return nil }
            if result.addresses[position].ifindex != ifindex { result.addresses[position].ifindex = ifindex }
        }
        for position in result.routes.indices {
            // A resolved route has an index exactly when an interface was written.
            guard let name = result.routes[position].interfaceName else { continue }
            guard let ifindex = indices[name] else { return nil }
            if result.routes[position].ifindex != ifindex { result.routes[position].ifindex = ifindex }
        }
        var addressTable: [RtnlFastAddressKey: Int] = [:]
        reserve(&addressTable, result.addresses.count)
        // Resolved addresses have distinct keys (duplicates were dropped).
        for position in result.addresses.indices { addressTable[RtnlFastAddressKey(result.addresses[position])] = position }
        return (result, RtnlDesiredIndex(routes: index.routes, routeOrder: index.routeOrder, addresses: addressTable))
    }

    /// Each link's index by its name: what desired entries, written with
    /// interface names, resolve against.
    static func indices(of links: [Link]) -> [String: Int32] {
        var indices: [String: Int32] = [:]
        reserve(&indices, links.count)
        for link in links { indices[link.name] = link.index }
        return indices
    }

    /// Reserves room for `count` entries in `table` only when they are
    /// many: `Dictionary.reserveCapacity` is not inlinable, so every call
    /// runs the unspecialised generic resize and looks the storage's
    /// metadata up at run time (about a microsecond), while the few inserts
    /// of a namespace's handful of links grow the table in specialised code
    /// for less.
    static func reserve<Key, Value>(_ table: inout [Key: Value], _ count: Int) {
        if count > 16 { table.reserveCapacity(count) }
    }

    private static func addresses(
        _ entries: [RtnlAddressEntry], indices: [String: Int32], options: RtnlOptions
    ) throws(ReconcileError) -> (items: [InterfaceAddress], table: [RtnlFastAddressKey: Int]) {
        var result: [InterfaceAddress] = []
        result.reserveCapacity(entries.count)
        var table: [RtnlFastAddressKey: Int] = [:]
        table.reserveCapacity(entries.count)
        // IPv6 indexes an address by interface and address alone: the same
        // address twice with different prefixes is one identity, two values.
        var ipv6: [V6Identity: Int] = [:]
        for (position, entry) in entries.enumerated() {
            do throws(ReconcileError) {
                // Names are built only when an entry is refused: this loop runs
                // over every entry of every pass.
                let name = { "addresses[\(position)] (\(entry))" }
                let (address, length) = try parseAddress(entry.address, entry: name)
                guard let ifindex = indices[entry.interface] else {
                    throw .invalidDesired(entry: name(), reason: "no interface named \"\(entry.interface)\" in the namespace")
                }
                let item = InterfaceAddress(
                    ifindex: ifindex, address: address, prefixLength: length,
                    proto: options.addressProtocol, interfaceName: entry.interface)
                let key = RtnlFastAddressKey(item)
                guard table[key] == nil else { continue }
                if address.family == .ipv6 {
                    let identity = V6Identity(ifindex: ifindex, address: address)
                    if let earlier = ipv6[identity] {
                        throw .invalidDesired(
                            entry: name(),
                            reason: "\(address) is already on \(entry.interface) with another prefix length in "
                                + "addresses[\(earlier)] (\(entries[earlier]))")
                    }
                    ipv6[identity] = position
                }
                table[key] = result.count
                result.append(item)
            } catch {
                throw error.at(["addresses", .index(position)])
            }
        }
        return (result, table)
    }

    private struct V6Identity: Hashable {
        var ifindex: Int32
        var address: IPAddress

        func _rawHashValue(seed: Int) -> Int {
            let (a, b) = address.hashWords
            return WordHash.hash(seed: seed, a, b, UInt64(UInt32(bitPattern: ifindex)))
        }
    }

    /// Splits `ADDR/LEN` (or a bare address) without building substrings
    /// arrays; nil length when there is no '/'.
    static func split(_ text: String) -> (address: Substring, length: Substring?) {
        guard let slash = text.utf8.firstIndex(of: UInt8(ascii: "/")) else { return (text[...], nil) }
        return (text[..<slash], text[text.index(after: slash)...])
    }

    private static func parseAddress(_ text: String, entry: () -> String) throws(ReconcileError) -> (IPAddress, Int) {
        if let fast = RtnlFastParse.ipv4(text), (fast.length ?? 32) <= 32 {
            return (.v4(fast.address), fast.length ?? 32)
        }
        let (addressText, lengthText) = split(text)
        let address: IPAddress
        do {
            address = try IPAddress(String(addressText))
        } catch {
            throw .invalidDesired(entry: entry(), reason: error.description)
        }
        guard let lengthText else { return (address, address.family.bitWidth) }
        guard let length = Int(lengthText) else {
            throw .invalidDesired(entry: entry(), reason: "prefix length \"\(lengthText)\" is not a number")
        }
        guard (0...address.family.bitWidth).contains(length) else {
            throw .invalidDesired(
                entry: entry(),
                reason: "prefix length \(length) is out of range for \(address.family) (0...\(address.family.bitWidth))")
        }
        return (address, length)
    }

    private static func routes(
        _ entries: [RtnlRouteEntry], indices: [String: Int32], options: RtnlOptions
    ) throws(ReconcileError) -> (items: [Route], table: [RtnlFastKey: Int]) {
        // Through a buffer pointer and by index: iterating the array copies
        // every entry, and a closure naming `entries` retains and releases
        // its buffer for every entry (both measurable at 65,536).
        try entries.withUnsafeBufferPointer { (entries) throws(ReconcileError) in
            try routes(entries, indices: indices, options: options)
        }
    }

    private static func routes(
        _ entries: UnsafeBufferPointer<RtnlRouteEntry>, indices: [String: Int32], options: RtnlOptions
    ) throws(ReconcileError) -> (items: [Route], table: [RtnlFastKey: Int]) {
        var result: [Route] = []
        result.reserveCapacity(entries.count)
        var table: [RtnlFastKey: Int] = [:]
        table.reserveCapacity(entries.count)
        // The entry each resolved route came from, to name it in an error.
        var entryOf: [Int] = []
        entryOf.reserveCapacity(entries.count)
        for position in entries.indices {
            do throws(ReconcileError) {
                let name = { "routes[\(position)] (\(entries[position]))" }
                let route = try route(entries[position], name: name, indices: indices, options: options)
                let key = RtnlFastKey(route)
                // One hash lookup for the common case, a new key; a repeated
                // key gets its first position back.
                if let earlier = table.updateValue(result.count, forKey: key) {
                    table[key] = earlier
                    if result[earlier] == route { continue }
                    let first = entryOf[earlier]
                    throw .invalidDesired(
                        entry: name(),
                        reason: "same route (table, destination, metric) as routes[\(first)] "
                            + "(\(entries[first])) with a different next hop")
                }
                entryOf.append(position)
                result.append(route)
            } catch {
                throw error.at(["routes", .index(position)])
            }
        }
        return (result, table)
    }

    private static func route(
        _ entry: RtnlRouteEntry, name: () -> String, indices: [String: Int32], options: RtnlOptions
    ) throws(ReconcileError) -> Route {
        var gateway: IPAddress?
        if let text = entry.gateway {
            if let fast = RtnlFastParse.ipv4(text), fast.length == nil {
                gateway = .v4(fast.address)
            } else {
                do {
                    gateway = try IPAddress(text)
                } catch {
                    throw .invalidDesired(entry: name(), reason: "gateway \(error.description)")
                }
            }
            if gateway!.isUnspecified {
                throw .invalidDesired(entry: name(), reason: "gateway \(text) is the unspecified address")
            }
        }
        let destination: IPPrefix
        if let fast = entry.fastDestination {
            do throws(ValueError) {
                destination = try IPPrefix(.v4(fast.address), length: fast.length ?? 32)
            } catch {
                throw .invalidDesired(entry: name(), reason: "destination \(error.description)")
            }
        } else if entry.destination == "default" {
            guard let gateway else {
                throw .invalidDesired(
                    entry: name(),
                    reason: "\"default\" takes its family from the gateway; without one write 0.0.0.0/0 or ::/0")
            }
            destination = .any(gateway.family)
        } else {
            do throws(ValueError) {
                let (addressText, lengthText) = split(entry.destination)
                let address = try IPAddress(String(addressText))
                var length = address.family.bitWidth
                if let lengthText {
                    guard let parsed = Int(lengthText) else {
                        throw ValueError(value: entry.destination, reason: "prefix length \"\(lengthText)\" is not a number")
                    }
                    length = parsed
                }
                destination = try IPPrefix(address, length: length)
            } catch {
                throw .invalidDesired(entry: name(), reason: "destination \(error.description)")
            }
        }
        if let gateway, gateway.family != destination.family {
            throw .invalidDesired(
                entry: name(),
                reason: "gateway \(gateway) is \(gateway.family) but destination \(destination) is \(destination.family)")
        }
        var ifindex: Int32?
        if let interface = entry.interface {
            guard let index = indices[interface] else {
                throw .invalidDesired(entry: name(), reason: "no interface named \"\(interface)\" in the namespace")
            }
            ifindex = index
        }
        if gateway == nil && ifindex == nil {
            throw .invalidDesired(entry: name(), reason: "a route needs a gateway, an interface, or both")
        }
        if entry.table == 0 {
            throw .invalidDesired(entry: name(), reason: "table 0 is unspecified; the main table is 254")
        }
        return Route(
            destination: destination, gateway: gateway, ifindex: ifindex,
            table: entry.table ?? RouteTable.main, metric: entry.metric ?? 0,
            proto: options.routeProtocol,
            // The kernel gives a route without a next hop link scope.
            scope: gateway == nil ? 253 : 0,
            interfaceName: entry.interface)
    }
}
