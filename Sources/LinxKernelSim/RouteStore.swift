import LinxReconcile

/// One namespace's routes, keyed as the kernel keys them.
///
/// Routes live in a slot array with a free list and a key -> slot index, so
/// add, replace and delete are O(1) and a dump walks contiguous memory in an
/// order that depends only on the operation history (never on hash seeds),
/// which keeps dumps, and so histories, deterministic across processes.
///
/// A second, small index holds the on-link routes (no gateway, an output
/// interface, unicast): the routes that can make a gateway reachable. It is
/// bucketed by destination, with a count of prefix lengths present, so a
/// gateway check costs at most one lookup per present length.
struct RouteStore: Sendable {
    private var slots: [Route?] = []
    private var free: [Int] = []
    private var slotOf: [Route.Key: Int] = [:]
    private var onLink: [IPPrefix: [Route.Key]] = [:]
    /// Per family, the prefix lengths present among on-link routes with their
    /// counts, sorted by length.
    private var onLinkLengths: [AddressFamily: [(length: Int, count: Int)]] = [:]
    /// For IPv4 routes with a non-zero metric: their metrics under the key
    /// with metric 0, so a delete that names no metric (a wildcard for the
    /// kernel) finds them without a scan. Metric-0 adds never touch it.
    private var otherMetrics: [Route.Key: [UInt32]] = [:]

    var count: Int { slotOf.count }

    subscript(key: Route.Key) -> Route? {
        guard let slot = slotOf[key] else { return nil }
        return slots[slot]
    }

    func contains(_ key: Route.Key) -> Bool { slotOf[key] != nil }

    /// Inserts or overwrites the route with the same key; returns the old one.
    @discardableResult
    mutating func upsert(_ route: Route) -> Route? {
        let key = route.key
        if let slot = slotOf[key] {
            let old = slots[slot]!
            if Self.isOnLink(old) { unindexOnLink(old) }
            slots[slot] = route
            if Self.isOnLink(route) { indexOnLink(route) }
            return old
        }
        let slot: Int
        if let reused = free.popLast() {
            slot = reused
            slots[slot] = route
        } else {
            slot = slots.count
            slots.append(route)
        }
        slotOf[key] = slot
        if Self.isOnLink(route) { indexOnLink(route) }
        if key.metric != 0, route.family == .ipv4 {
            var base = key
            base.metric = 0
            otherMetrics[base, default: []].append(key.metric)
        }
        return nil
    }

    /// Removes the route with `key`; returns it.
    @discardableResult
    mutating func remove(_ key: Route.Key) -> Route? {
        guard let slot = slotOf.removeValue(forKey: key) else { return nil }
        let old = slots[slot]!
        slots[slot] = nil
        free.append(slot)
        if Self.isOnLink(old) { unindexOnLink(old) }
        if key.metric != 0, old.family == .ipv4 {
            var base = key
            base.metric = 0
            otherMetrics[base]?.removeAll { $0 == key.metric }
            if otherMetrics[base]?.isEmpty == true { otherMetrics[base] = nil }
        }
        if free.count > 4096 && free.count > slotOf.count { compact() }
        return old
    }

    /// The keys sharing `key`'s table, destination and tos, lowest metric
    /// first: the candidates fib_table_delete walks for a delete without a
    /// metric (IPv4 only).
    func keysIgnoringMetric(_ key: Route.Key) -> [Route.Key] {
        var base = key
        base.metric = 0
        var keys = slotOf[base] != nil ? [base] : []
        for metric in (otherMetrics[base] ?? []).sorted() {
            var k = base
            k.metric = metric
            keys.append(k)
        }
        return keys
    }

    /// Removes every route matching `predicate`, in dump order; returns them.
    mutating func removeAll(where predicate: (Route) -> Bool) -> [Route] {
        var removed: [Route] = []
        for slot in slots.indices {
            if let route = slots[slot], predicate(route) {
                removed.append(route)
            }
        }
        for route in removed { remove(route.key) }
        return removed
    }

    /// The routes matching `filter`, in dump order.
    func dump(_ filter: RouteFilter) -> [Route] {
        var out: [Route] = []
        out.reserveCapacity(filter == .all ? slotOf.count : 16)
        for case let route? in slots where filter.matches(route) {
            out.append(route)
        }
        return out
    }

    /// Every route, in dump order.
    var all: [Route] { dump(.all) }

    /// The most specific on-link route in `table` whose destination
    /// contains `gateway` and that satisfies `accept`.
    func firstOnLink(reaching gateway: IPAddress, table: UInt32, where accept: (Route) -> Bool) -> Route? {
        guard let lengths = onLinkLengths[gateway.family] else { return nil }
        for (length, _) in lengths.reversed() {
            guard let prefix = try? IPPrefix(gateway.masked(to: length), length: length),
                let keys = onLink[prefix]
            else { continue }
            for key in keys where key.table == table {
                if let route = self[key], accept(route) { return route }
            }
        }
        return nil
    }

    /// The routes the kernel would accept as covering a gateway.
    static func isOnLink(_ route: Route) -> Bool {
        guard route.gateway == nil, route.ifindex != nil, route.type == .unicast else { return false }
        // IPv4 asks for a route of scope link or narrower; IPv6 routes are all scope universe.
        return route.family == .ipv6 || route.scope >= 1
    }

    private mutating func indexOnLink(_ route: Route) {
        onLink[route.destination, default: []].append(route.key)
        let length = route.destination.length
        var lengths = onLinkLengths[route.family] ?? []
        if let i = lengths.firstIndex(where: { $0.length >= length }), lengths[i].length == length {
            lengths[i].count += 1
        } else {
            let i = lengths.firstIndex(where: { $0.length > length }) ?? lengths.endIndex
            lengths.insert((length, 1), at: i)
        }
        onLinkLengths[route.family] = lengths
    }

    private mutating func unindexOnLink(_ route: Route) {
        onLink[route.destination]?.removeAll { $0 == route.key }
        if onLink[route.destination]?.isEmpty == true { onLink[route.destination] = nil }
        let length = route.destination.length
        guard var lengths = onLinkLengths[route.family], let i = lengths.firstIndex(where: { $0.length == length }) else { return }
        lengths[i].count -= 1
        if lengths[i].count == 0 { lengths.remove(at: i) }
        onLinkLengths[route.family] = lengths
    }

    /// Drops the holes left by deletes, keeping dump order.
    private mutating func compact() {
        var packed: [Route?] = []
        packed.reserveCapacity(slotOf.count)
        slotOf.removeAll(keepingCapacity: true)
        for case let route? in slots {
            slotOf[route.key] = packed.count
            packed.append(route)
        }
        slots = packed
        free.removeAll()
    }
}
