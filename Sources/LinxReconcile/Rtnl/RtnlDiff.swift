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
        let index = RtnlDesiredIndex(RtnlResolvedState(addresses: [], routes: desired)).routes
        return routes(desired: desired, index: index, observed: Array(observed), protocol: `protocol`)
    }

    /// The route diff against a prebuilt index of `desired`: one hash lookup
    /// per observed route (the generic ``Diff/twoWay(desired:observed:isOwned:isSame:)``,
    /// specialised by hand for 10,000-route passes).
    static func routes(
        desired: [Route], index: [RtnlFastKey: Int], observed: [Route], protocol: UInt8
    ) -> [ReconcileOp<Route>] {
        var matched = [Bool](repeating: false, count: desired.count)
        var changes: [(key: RtnlFastKey, op: ReconcileOp<Route>)] = []
        var deletes: [(key: RtnlFastKey, op: ReconcileOp<Route>)] = []
        for route in observed where route.proto == `protocol` {
            let key = RtnlFastKey(route)
            guard let position = index[key] else {
                deletes.append((key, .delete(route)))
                continue
            }
            // The kernel holds one route per key; a repeat would be ignored.
            guard !matched[position] else { continue }
            matched[position] = true
            if !sameRoute(desired[position], route) {
                changes.append((key, .update(desired[position], previous: route)))
            }
        }
        for position in desired.indices where !matched[position] {
            changes.append((RtnlFastKey(desired[position]), .create(desired[position])))
        }
        return canonical(changes, deletes)
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
        let index = RtnlDesiredIndex(RtnlResolvedState(addresses: desired, routes: [])).addresses
        return addresses(desired: desired, index: index, observed: Array(observed), owned: owned)
    }

    /// The address diff against a prebuilt index of `desired`.
    static func addresses(
        desired: [InterfaceAddress], index: [RtnlFastAddressKey: Int], observed: [InterfaceAddress],
        owned: Set<InterfaceAddress.Key>
    ) -> [ReconcileOp<InterfaceAddress>] {
        var matched = [Bool](repeating: false, count: desired.count)
        var deletes: [(key: RtnlFastAddressKey, op: ReconcileOp<InterfaceAddress>)] = []
        for address in observed {
            let key = RtnlFastAddressKey(address)
            if let position = index[key] {
                matched[position] = true
            } else if owned.contains(address.key) {
                deletes.append((key, .delete(address)))
            }
        }
        var creates: [(key: RtnlFastAddressKey, op: ReconcileOp<InterfaceAddress>)] = []
        for position in desired.indices where !matched[position] {
            creates.append((RtnlFastAddressKey(desired[position]), .create(desired[position])))
        }
        return canonical(creates, deletes)
    }

    /// Changes by key, then deletes by key: one state, one plan, whatever the
    /// input order.
    private static func canonical<K: Comparable, Item>(
        _ changes: [(key: K, op: ReconcileOp<Item>)], _ deletes: [(key: K, op: ReconcileOp<Item>)]
    ) -> [ReconcileOp<Item>] {
        var ops: [ReconcileOp<Item>] = []
        ops.reserveCapacity(changes.count + deletes.count)
        ops.append(contentsOf: changes.sorted { $0.key < $1.key }.lazy.map(\.op))
        ops.append(contentsOf: deletes.sorted { $0.key < $1.key }.lazy.map(\.op))
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
