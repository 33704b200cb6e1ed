/// The pure rtnl diffs, usable on their own (to inspect a plan, or to apply
/// with a strategy of your own). No kernel access, O(n).
///
/// A `create`/`update` carries the desired object, a `delete` the observed one
/// (it holds the kernel's exact key and index).
public enum RtnlDiff {
    /// Two-way route diff: only observed routes tagged `protocol` can be
    /// updated or deleted; every other route (connected routes, other daemons,
    /// an administrator's) is invisible to it.
    ///
    /// Identity is the kernel's key (family, table, destination, tos,
    /// metric): a changed gateway or interface is an `update` (applied as a
    /// replace); a changed metric is a different route, so the new one is
    /// created and the old one deleted. A desired route without an interface
    /// matches an observed one on any interface (the kernel resolved it from
    /// the gateway).
    public static func routes(
        desired: some Sequence<Route>, observed: some Sequence<Route>, protocol: UInt8
    ) -> [ReconcileOp<Route>] {
        let desired = Array(desired)
        let index = RtnlDesiredIndex(RtnlResolvedState(addresses: [], routes: desired))
        return routes(desired: desired, index: index, observed: Array(observed), protocol: `protocol`, as: { $0 })
    }

    /// The route diff against a prebuilt index of `desired`: one hash lookup
    /// per observed route (the generic ``Diff/twoWay(desired:observed:isOwned:isSame:)``,
    /// specialised by hand for 10,000-route passes).
    ///
    /// The array returned has room for `extra` more ops (the plan puts its
    /// address ops beside these): ops are about 120 bytes, and an array
    /// grown op by op or again for the address phase copied every one.
    static func routes<Item>(
        desired: [Route], index: RtnlDesiredIndex, observed: [Route], protocol: UInt8, extra: Int = 0,
        as wrap: (Route) -> Item
    ) -> [ReconcileOp<Item>] {
        // Through the arrays' buffers: a Route read by an array subscript is
        // copied out (128 bytes, its name retained) only to read its key.
        desired.withUnsafeBufferPointer { desired in
            observed.withUnsafeBufferPointer { observed in
                // For each desired position, the observed route holding its
                // key when it needs an update; `absent` when none holds it,
                // `same` when the one holding it already is the desired route.
                let absent = -1, same = -2
                var found = [Int](repeating: absent, count: desired.count)
                var deletes: [(key: RtnlFastKey, position: Int)] = []
                var creates = desired.count, updates = 0
                for position in observed.indices where observed[position].proto == `protocol` {
                    let key = RtnlFastKey(observed[position])
                    guard let wanted = index.routes[key] else {
                        deletes.append((key, position))
                        continue
                    }
                    // The kernel holds one route per key; a repeat would be ignored.
                    guard found[wanted] == absent else { continue }
                    creates -= 1
                    if sameRoute(desired[wanted], observed[position]) {
                        found[wanted] = same
                    } else {
                        found[wanted] = position
                        updates += 1
                    }
                }
                var ops: [ReconcileOp<Item>] = []
                ops.reserveCapacity(creates + updates + deletes.count + extra)
                // Creates and updates come out in key order because the index
                // walks the desired routes in key order.
                for wanted in index.routeOrder {
                    let at = found[wanted]
                    if at == absent {
                        ops.append(.create(wrap(desired[wanted])))
                    } else if at != same {
                        ops.append(.update(wrap(desired[wanted]), previous: wrap(observed[at])))
                    }
                }
                deletes.sort { $0.key < $1.key }
                for delete in deletes { ops.append(.delete(wrap(observed[delete.position]))) }
                return ops
            }
        }
    }

    /// Three-way address diff: every observed address is seen (so a desired
    /// address that already exists is left as it is, whoever added it), but
    /// only those whose key is in `owned` are ever deleted.
    ///
    /// An address has no value beyond its key (interface, address, prefix
    /// length), so addresses are created or deleted, never updated.
    public static func addresses(
        desired: some Sequence<InterfaceAddress>, observed: some Sequence<InterfaceAddress>,
        owned: Set<InterfaceAddress.Key>
    ) -> [ReconcileOp<InterfaceAddress>] {
        let desired = Array(desired)
        let index = RtnlDesiredIndex(RtnlResolvedState(addresses: desired, routes: []))
        return addresses(desired: desired, index: index, observed: Array(observed), owned: owned)
    }

    /// The address diff against a prebuilt index of `desired`.
    static func addresses(
        desired: [InterfaceAddress], index: RtnlDesiredIndex, observed: [InterfaceAddress],
        owned: Set<InterfaceAddress.Key>
    ) -> [ReconcileOp<InterfaceAddress>] {
        var present = [Bool](repeating: false, count: desired.count)
        var deletes: [(key: RtnlFastAddressKey, position: Int)] = []
        for position in observed.indices {
            let key = RtnlFastAddressKey(observed[position])
            if let wanted = index.addresses[key] {
                present[wanted] = true
            } else if owned.contains(observed[position].key) {
                deletes.append((key, position))
            }
        }
        var ops: [ReconcileOp<InterfaceAddress>] = []
        for wanted in index.addressOrder where !present[wanted] { ops.append(.create(desired[wanted])) }
        deletes.sort { $0.key < $1.key }
        for delete in deletes { ops.append(.delete(observed[delete.position])) }
        return ops
    }

    /// Whether an observed route already is the desired one: same next hop,
    /// same type, and the desired interface when one was written.
    public static func sameRoute(_ desired: Route, _ observed: Route) -> Bool {
        desired.gateway == observed.gateway
            && desired.type == observed.type
            && (desired.ifindex == nil || desired.ifindex == observed.ifindex)
    }
}
