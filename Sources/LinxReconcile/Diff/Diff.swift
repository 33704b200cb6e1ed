/// The pure diff engine every reconciler shares.
///
/// Both diffs match items by ``Keyed/key`` through a hash table and compare
/// their values with `isSame`, so they cost O(n) in the items plus sorting the
/// ops they return. Ops come back in a canonical order (creates and updates by
/// key, then deletes by key) that does not depend on the input order, so one
/// state always yields one plan. Desired items must have unique keys
/// (reconcilers reject duplicates before diffing).
public enum Diff {
    /// Two-way diff, for state the kernel tags with its owner (routes carry
    /// `rtm_protocol`): observed items that `isOwned` rejects are invisible, so
    /// they can never be updated or deleted.
    public static func twoWay<Item: Keyed>(
        desired: some Sequence<Item>,
        observed: some Sequence<Item>,
        isOwned: (Item) -> Bool,
        isSame: (_ desired: Item, _ observed: Item) -> Bool = { $0 == $1 }
    ) -> [ReconcileOp<Item>] {
        let ours = index(observed.lazy.filter(isOwned), capacity: observed.underestimatedCount)
        var ops: [ReconcileOp<Item>] = []
        var wanted = Set<Item.Key>()
        wanted.reserveCapacity(desired.underestimatedCount)
        for item in desired {
            wanted.insert(item.key)
            if let op = change(to: item, from: ours[item.key], isSame: isSame) { ops.append(op) }
        }
        for (key, item) in ours where !wanted.contains(key) {
            ops.append(.delete(item))
        }
        return canonical(ops)
    }

    /// Three-way diff, for state the kernel does not tag (addresses, sysctls,
    /// cgroup files): ownership is the set of keys the last pass applied.
    /// Observed items outside that set are never deleted, however they got
    /// there; a key we own that has vanished from the kernel yields nothing.
    public static func threeWay<Item: Keyed>(
        desired: some Sequence<Item>,
        observed: some Sequence<Item>,
        owned: Set<Item.Key>,
        isSame: (_ desired: Item, _ observed: Item) -> Bool = { $0 == $1 }
    ) -> [ReconcileOp<Item>] {
        let present = index(observed)
        var ops: [ReconcileOp<Item>] = []
        var wanted = Set<Item.Key>()
        wanted.reserveCapacity(desired.underestimatedCount)
        for item in desired {
            wanted.insert(item.key)
            if let op = change(to: item, from: present[item.key], isSame: isSame) { ops.append(op) }
        }
        for key in owned where !wanted.contains(key) {
            if let item = present[key] { ops.append(.delete(item)) }
        }
        return canonical(ops)
    }

    private static func index<Item: Keyed>(_ items: some Sequence<Item>, capacity: Int? = nil) -> [Item.Key: Item] {
        var table: [Item.Key: Item] = [:]
        // Sized up front: regrowing dominated a no-op pass over 10,000 routes.
        table.reserveCapacity(capacity ?? items.underestimatedCount)
        for item in items where table[item.key] == nil { table[item.key] = item }
        return table
    }

    private static func change<Item: Keyed>(
        to desired: Item, from observed: Item?, isSame: (Item, Item) -> Bool
    ) -> ReconcileOp<Item>? {
        guard let observed else { return .create(desired) }
        return isSame(desired, observed) ? nil : .update(desired, previous: observed)
    }

    /// Creates and updates by key, then deletes by key. Keys are computed
    /// once per op, not once per comparison: a route's key is a struct built
    /// from several fields, and the sort is on every pass's path.
    private static func canonical<Item: Keyed>(_ ops: [ReconcileOp<Item>]) -> [ReconcileOp<Item>] {
        guard ops.count > 1 else { return ops }
        var decorated = ops.map { (isDelete: $0.isDelete, key: $0.item.key, op: $0) }
        decorated.sort { a, b in
            if a.isDelete != b.isDelete { return b.isDelete }
            return a.key < b.key
        }
        return decorated.map(\.op)
    }
}

extension ReconcileOp {
    /// True for `.delete`.
    public var isDelete: Bool {
        if case .delete = self { return true }
        return false
    }
}
