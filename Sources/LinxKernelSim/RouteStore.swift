import LinxReconcile

/// One namespace's routes, keyed as the kernel keys them.
///
/// Routes live in a slot array with a free list and a key -> slot index, so
/// add, replace and delete are O(1) and a dump walks contiguous memory in an
/// order that depends only on the operation history (never on hash seeds),
/// which keeps dumps, and so histories, deterministic across processes.
///
/// The kernel appends its own routes (fib_magic uses NLM_F_APPEND), so two
/// links can each hold a route with one key (the same subnet, the same /32
/// local address, fe80::/64): the first is the stored route, the others are
/// kept as shadows, dumped too, and one takes the stored route's place when
/// it goes. Requests only ever see the stored route, as the kernel's first
/// alias.
///
/// A small index holds the on-link routes (no gateway, an output interface,
/// scope link or host for IPv4): the routes a gateway lookup can land on. It
/// is bucketed by destination, with the prefix lengths present, so a gateway
/// check costs at most one lookup per present length.
struct RouteStore: Sendable {
    private var slots: [Route?] = []
    private var free: [Int] = []
    private var slotOf: [Route.Key: Int] = [:]
    private(set) var shadows: [Route] = []
    private var onLink: [IPPrefix: SmallBucket<Route>] = [:]
    /// Per family, the prefix lengths present among on-link routes with their
    /// counts, sorted by length (two fields, not a map keyed by family: every
    /// gateway check reads one).
    private var onLinkLengthsV4: [(length: Int, count: Int)] = []
    private var onLinkLengthsV6: [(length: Int, count: Int)] = []
    /// For IPv4 routes with a non-zero metric: their metrics under the key
    /// with metric 0, so a delete that names no metric (a wildcard for the
    /// kernel) finds them without a scan. Metric-0 adds never touch it.
    private var otherMetrics: [Route.Key: SmallBucket<UInt32>] = [:]
    /// Stored IPv6 routes by table and destination, as slots: an IPv6
    /// gateway check looks up the gateway's prefix per present length instead
    /// of walking the table.
    private var v6Slots: [TableDestination: SmallBucket<Int>] = [:]
    /// Per table, the prefix lengths present among its stored IPv6 routes,
    /// with their counts, sorted by length: a lookup tries only the lengths
    /// its table holds. Tables without IPv6 routes have no entry.
    private var v6Lengths: [(table: UInt32, lengths: [(length: Int, count: Int)])] = []
    /// On-link routes counted per family and table (no entry at zero): a
    /// gateway lookup in a table without any skips the index.
    private var onLinkTables: [(family: AddressFamily, table: UInt32, count: Int)] = []
    /// Anycast routes held, stored or shadows: a link's anycast sync (on
    /// every IPv6 address add) walks the store only when there is one.
    private(set) var anycastCount = 0

    private struct TableDestination: Hashable {
        var table: UInt32
        var destination: IPPrefix

        /// WordHash over the fields, as Route.Key hashes (every IPv6 route
        /// add and gateway check looks one up).
        func _rawHashValue(seed: Int) -> Int {
            let (a, b) = destination.address.hashWords
            return WordHash.hash(seed: seed, a, b, UInt64(table) << 32 | UInt64(truncatingIfNeeded: destination.length))
        }
    }

    var count: Int { slotOf.count + shadows.count }

    subscript(key: Route.Key) -> Route? {
        guard let slot = slotOf[key] else { return nil }
        return slots[slot]
    }

    func contains(_ key: Route.Key) -> Bool { slotOf[key] != nil }

    /// Inserts or overwrites the route with the same key; returns the old one.
    /// `indexed` says the route already sits in the on-link index (a
    /// promoted shadow keeps its place there, so lookups keep alias order).
    @discardableResult
    mutating func upsert(_ route: Route, indexed: Bool = false) -> Route? {
        guard let slot = storeIfFree(route, indexed: indexed) else { return nil }
        return overwrite(slot, with: route)
    }

    /// A request's add: stores `route`, or with `replacing` false leaves an
    /// existing route of its key alone and returns false (EEXIST).
    mutating func add(_ route: Route, replacing: Bool) -> Bool {
        guard let slot = storeIfFree(route, indexed: false) else { return true }
        guard replacing else { return false }
        overwrite(slot, with: route)
        return true
    }

    /// Stores `route` in a fresh slot when its key is free and returns nil;
    /// else returns the key's slot and stores nothing. The key is hashed once
    /// for both the lookup and the insert.
    private mutating func storeIfFree(_ route: Route, indexed: Bool) -> Int? {
        let key = route.key
        let slot = free.last ?? slots.count
        if slotOf.count >= slotOf.capacity { reserveRoom() }
        if let held = Self.claim(&slotOf[key, default: -1], for: slot) { return held }
        if free.popLast() != nil {
            slots[slot] = route
        } else {
            slots.append(route)
        }
        countAnycast(route, by: 1)
        if route.family == .ipv6 { indexV6(route, slot: slot) }
        if !indexed, Self.isOnLink(route) { indexOnLink(route) }
        if key.metric != 0, route.family == .ipv4 {
            otherMetrics[Self.base(key), default: []].append(key.metric)
        }
        return nil
    }

    /// Grows the key map and the slots to at least 128 routes at once, then
    /// by doubling: a fuzzed namespace starts as a copy of a template holding
    /// a dozen routes and takes 100-200 within a few passes, and each
    /// doubling on the way rehashed every key and moved every route.
    private mutating func reserveRoom() {
        let room = Swift.max(128, slotOf.capacity * 2)
        slotOf.reserveCapacity(room)
        if slots.capacity < room { slots.reserveCapacity(room) }
    }

    /// Fills a free entry (`-1`, just made by the default subscript) with
    /// `slot` and returns nil, or returns the slot already there.
    private static func claim(_ entry: inout Int, for slot: Int) -> Int? {
        guard entry == -1 else { return entry }
        entry = slot
        return nil
    }

    /// Puts `route` in the occupied `slot` (same key); returns the route it replaces.
    @discardableResult
    private mutating func overwrite(_ slot: Int, with route: Route) -> Route {
        let old = slots[slot]!
        if Self.isOnLink(old) { unindexOnLink(old) }
        slots[slot] = route
        countAnycast(old, by: -1)
        countAnycast(route, by: 1)
        if Self.isOnLink(route) { indexOnLink(route) }
        return old
    }

    /// Removes the stored route with `key` (a shadow with the same key takes
    /// its place); returns it.
    @discardableResult
    mutating func remove(_ key: Route.Key) -> Route? {
        guard let slot = slotOf.removeValue(forKey: key) else { return nil }
        let old = slots[slot]!
        slots[slot] = nil
        free.append(slot)
        countAnycast(old, by: -1)
        if old.family == .ipv6 { unindexV6(old, slot: slot) }
        if Self.isOnLink(old) { unindexOnLink(old) }
        if key.metric != 0, old.family == .ipv4 {
            if let i = otherMetrics.index(forKey: Self.base(key)) {
                otherMetrics.values[i].removeAll { $0 == key.metric }
                if otherMetrics.values[i].isEmpty { otherMetrics.remove(at: i) }
            }
        }
        if !shadows.isEmpty, let i = shadows.firstIndex(where: { $0.key == key }) {
            let promoted = shadows.remove(at: i)
            countAnycast(promoted, by: -1)  // counted again as it is stored
            upsert(promoted, indexed: true)
        }
        if free.count > 4096 && free.count > slotOf.count { compact() }
        return old
    }

    /// Adds a kernel-made route: stored when its key is free, an alias (a
    /// shadow) otherwise, nothing when the same route is already there.
    /// "The same" is what the kernel's dedup compares: for IPv4
    /// (fib_table_insert with NLM_F_APPEND) the whole route through the same
    /// link, so the kernel's connected route sits beside one of ours with
    /// the same key (checked on Linux 6.18); for IPv6 (fib6_add_rt2node) any
    /// route with the key through the same link. Returns true when added.
    mutating func insertKernel(_ route: Route) -> Bool {
        guard let slot = storeIfFree(route, indexed: false) else { return true }
        let existing = slots[slot]!
        func same(_ other: Route) -> Bool {
            guard other.key == route.key, other.ifindex == route.ifindex else { return false }
            return route.family == .ipv6
                ? other.gateway == route.gateway
                : (other.proto == route.proto && other.type == route.type && other.scope == route.scope
                    && other.prefsrc == route.prefsrc && other.gateway == route.gateway)
        }
        if same(existing) || shadows.contains(where: same) { return false }
        shadows.append(route)
        countAnycast(route, by: 1)
        if Self.isOnLink(route) { indexOnLink(route) }
        return true
    }

    /// Removes the kernel's own route matching `route` (key, link, type,
    /// prefsrc, protocol kernel), alias or stored, as fib_magic's delete matches:
    /// a route of someone else's with the same key stays. Returns it.
    mutating func removeKernel(_ route: Route) -> Route? {
        func mine(_ other: Route) -> Bool {
            other.key == route.key && other.ifindex == route.ifindex && other.type == route.type
                && other.proto == RouteProtocol.kernel && (route.prefsrc == nil || other.prefsrc == route.prefsrc)
        }
        if let i = shadows.firstIndex(where: mine) {
            let gone = shadows.remove(at: i)
            if Self.isOnLink(gone) { unindexOnLink(gone) }
            countAnycast(gone, by: -1)
            return gone
        }
        guard let existing = self[route.key], mine(existing) else { return nil }
        return remove(route.key)
    }

    /// Removes the alias `route` exactly (not the stored route); returns it.
    mutating func removeShadow(matching accept: (Route) -> Bool, key: Route.Key) -> Route? {
        guard let i = shadows.firstIndex(where: { $0.key == key && accept($0) }) else { return nil }
        let gone = shadows.remove(at: i)
        if Self.isOnLink(gone) { unindexOnLink(gone) }
        countAnycast(gone, by: -1)
        return gone
    }

    /// The keys sharing `key`'s table, destination and tos, lowest metric
    /// first: the candidates fib_table_delete walks for a delete without a
    /// metric (IPv4 only).
    func keysIgnoringMetric(_ key: Route.Key) -> [Route.Key] {
        let base = Self.base(key)
        var keys = slotOf[base] != nil ? [base] : []
        for metric in (otherMetrics[base] ?? []).sorted() {
            var k = base
            k.metric = metric
            keys.append(k)
        }
        return keys
    }

    /// Removes every route (stored or shadow) matching `predicate`, in dump
    /// order; returns them.
    mutating func removeAll(where predicate: (Route) -> Bool) -> [Route] {
        var removed: [Route] = []
        for slot in slots.indices {
            if let route = slots[slot], predicate(route) { removed.append(route) }
        }
        var doomedShadows: [Route] = []
        shadows.removeAll { route in
            guard predicate(route) else { return false }
            doomedShadows.append(route)
            return true
        }
        for route in doomedShadows {
            if Self.isOnLink(route) { unindexOnLink(route) }
            countAnycast(route, by: -1)
        }
        for route in removed { remove(route.key) }
        return removed + doomedShadows
    }

    /// The routes matching `filter`, in dump order (stored, then shadows).
    func dump(_ filter: RouteFilter) -> [Route] {
        var out: [Route] = []
        if filter == .all {
            out.reserveCapacity(count)
        } else {
            // Counted first: the reconciler's dump of its own routes is most
            // of the store, and growing to it moved every route several times.
            var matching = 0
            forEach(filter) { _ in matching += 1 }
            out.reserveCapacity(matching)
        }
        forEach(filter) { out.append($0) }
        return out
    }

    /// Calls `body` with each route matching `filter`, in dump order,
    /// without building the dump (gateway checks walk a table per request).
    func forEach(_ filter: RouteFilter, _ body: (Route) -> Void) {
        for case let route? in slots where filter.matches(route) { body(route) }
        for route in shadows where filter.matches(route) { body(route) }
    }

    /// Every route, in dump order.
    var all: [Route] { dump(.all) }

    /// The route an IPv6 lookup in `table` lands on for `gateway`, of any
    /// type, through `ifindex` when given: the longest prefix containing it,
    /// then the lowest metric, then the first in dump order. The same answer
    /// as walking ``dump(_:)`` of the table in order, keeping a route only
    /// when it beats the best so far, without the walk.
    func bestIPv6(containing gateway: IPAddress, table: UInt32, via ifindex: Int32?) -> Route? {
        var best: Route?
        var bestSlot = Int.max
        for (length, _) in (v6Lengths.first { $0.table == table }?.lengths ?? []).reversed() {
            guard let candidates = v6Slots[TableDestination(table: table, destination: try! IPPrefix(gateway.masked(to: length), length: length))]
            else { continue }
            for slot in candidates {
                let route = slots[slot]!
                guard ifindex == nil || route.ifindex == ifindex else { continue }
                if let current = best, current.metric < route.metric || (current.metric == route.metric && bestSlot < slot) { continue }
                best = route
                bestSlot = slot
            }
            if best != nil { break }
        }
        // Shadows come after every stored route in a dump: one replaces the
        // best only when strictly better, as in the walk.
        for route in shadows
        where route.family == .ipv6 && route.table == table && route.destination.contains(gateway)
            && (ifindex == nil || route.ifindex == ifindex)
        {
            guard let current = best else {
                best = route
                continue
            }
            if (route.destination.length, current.metric) > (current.destination.length, route.metric) { best = route }
        }
        return best
    }

    /// Longest-prefix match among the on-link routes of `table` that contain
    /// `gateway` and satisfy `accept`.
    func firstOnLink(reaching gateway: IPAddress, table: UInt32, where accept: (Route) -> Bool) -> Route? {
        guard onLinkTables.contains(where: { $0.family == gateway.family && $0.table == table }) else { return nil }
        return firstOnLink(reaching: gateway, inTables: { $0 == table }, where: accept)
    }

    /// Longest-prefix match over several tables at once, as the kernel's
    /// merged local+main trie answers when there are no custom rules;
    /// within one prefix the higher table id comes first, then the lower
    /// metric, then the older route (fib_insert_alias keeps a leaf's
    /// aliases by descending tb_id, then ascending priority).
    func firstOnLink(reaching gateway: IPAddress, inTables tables: (UInt32) -> Bool, where accept: (Route) -> Bool) -> Route? {
        for (length, _) in (gateway.family == .ipv4 ? onLinkLengthsV4 : onLinkLengthsV6).reversed() {
            guard let prefix = try? IPPrefix(gateway.masked(to: length), length: length),
                let bucket = onLink.index(forKey: prefix)
            else { continue }
            var best: Route?
            // Read in place: a bucket holds its first route inline, so taking
            // the bucket out would copy that route.
            for j in onLink.values[bucket].indices {
                let route = onLink.values[bucket][j]
                guard tables(route.table) && accept(route) else { continue }
                if let current = best, (current.table, UInt32.max - current.metric) >= (route.table, UInt32.max - route.metric) {
                    continue
                }
                best = route
            }
            if let best { return best }
        }
        return nil
    }

    /// The routes a gateway lookup can land on: no gateway, an output
    /// interface; for IPv4 a scope narrower than universe (the lookup asks
    /// for scope link + 1), for IPv6 unicast.
    static func isOnLink(_ route: Route) -> Bool {
        guard route.gateway == nil, route.ifindex != nil else { return false }
        switch route.family {
        case .ipv4: return route.scope >= 1 && (route.type == .unicast || route.type == .local || route.type == .broadcast)
        case .ipv6: return route.type == .unicast
        }
    }

    private static func base(_ key: Route.Key) -> Route.Key {
        var base = key
        base.metric = 0
        return base
    }

    private mutating func countAnycast(_ route: Route, by delta: Int) {
        if route.type == .anycast { anycastCount += delta }
    }

    private mutating func indexOnLink(_ route: Route) {
        onLink[route.destination, default: []].append(route)
        countOnLink(route, by: 1)
    }

    private mutating func unindexOnLink(_ route: Route) {
        // One lookup, then the bucket in place.
        guard let bucket = onLink.index(forKey: route.destination),
            let i = onLink.values[bucket].firstIndex(where: { $0.key == route.key && $0.ifindex == route.ifindex })
        else { return }
        onLink.values[bucket].remove(at: i)
        if onLink.values[bucket].isEmpty { onLink.remove(at: bucket) }
        countOnLink(route, by: -1)
    }

    private mutating func countOnLink(_ route: Route, by delta: Int) {
        if let i = onLinkTables.firstIndex(where: { $0.family == route.family && $0.table == route.table }) {
            onLinkTables[i].count += delta
            if onLinkTables[i].count == 0 { onLinkTables.remove(at: i) }
        } else if delta > 0 {
            onLinkTables.append((route.family, route.table, delta))
        }
        switch route.family {
        case .ipv4: Self.count(route.destination.length, by: delta, in: &onLinkLengthsV4)
        case .ipv6: Self.count(route.destination.length, by: delta, in: &onLinkLengthsV6)
        }
    }

    /// Counts one more (`delta` 1) or one less (-1) route of prefix `length`
    /// in `lengths`, kept sorted by length without zero counts.
    private static func count(_ length: Int, by delta: Int, in lengths: inout [(length: Int, count: Int)]) {
        if delta > 0 {
            if let i = lengths.firstIndex(where: { $0.length >= length }), lengths[i].length == length {
                lengths[i].count += 1
            } else {
                lengths.insert((length, 1), at: lengths.firstIndex(where: { $0.length > length }) ?? lengths.endIndex)
            }
        } else {
            guard let j = lengths.firstIndex(where: { $0.length == length }) else { return }
            lengths[j].count -= 1
            if lengths[j].count == 0 { lengths.remove(at: j) }
        }
    }

    private mutating func indexV6(_ route: Route, slot: Int) {
        v6Slots[TableDestination(table: route.table, destination: route.destination), default: []].append(slot)
        countV6(route, by: 1)
    }

    private mutating func unindexV6(_ route: Route, slot: Int) {
        // One lookup, then the bucket in place.
        if let i = v6Slots.index(forKey: TableDestination(table: route.table, destination: route.destination)) {
            v6Slots.values[i].removeAll { $0 == slot }
            if v6Slots.values[i].isEmpty { v6Slots.remove(at: i) }
        }
        countV6(route, by: -1)
    }

    private mutating func countV6(_ route: Route, by delta: Int) {
        if let i = v6Lengths.firstIndex(where: { $0.table == route.table }) {
            Self.count(route.destination.length, by: delta, in: &v6Lengths[i].lengths)
            if v6Lengths[i].lengths.isEmpty { v6Lengths.remove(at: i) }
        } else if delta > 0 {
            v6Lengths.append((route.table, [(route.destination.length, 1)]))
        }
    }

    /// Drops the holes left by deletes, keeping dump order.
    private mutating func compact() {
        var packed: [Route?] = []
        packed.reserveCapacity(slotOf.count)
        slotOf.removeAll(keepingCapacity: true)
        v6Slots.removeAll(keepingCapacity: true)
        v6Lengths.removeAll(keepingCapacity: true)
        for case let route? in slots {
            slotOf[route.key] = packed.count
            if route.family == .ipv6 { indexV6(route, slot: packed.count) }
            packed.append(route)
        }
        slots = packed
        free.removeAll()
    }
}
