/// One change a reconcile pass plans: the unit of `applied`, `failed` and
/// `pending` in a ``ReconcileReport``.
///
/// `create` and `update` carry the *desired* item (what will be written);
/// `delete` carries the *observed* item, because only the observed one holds
/// the kernel's handle (an ifindex, the exact key the kernel stored).
public enum ReconcileOp<Item: Sendable & Hashable>: Sendable, Hashable {
    /// The item is wanted and absent.
    case create(Item)
    /// The item is present under the same identity with a different value.
    /// `previous` is what was observed, kept for plans ("old -> new").
    /// Not boxed: `indirect` here (to make an op the size of one item)
    /// crashed the debug test build in RtnlReconciler.wildcardDeletes
    /// (swift_retain on a bad pointer copying an op, Swift 6.3.1; found by
    /// the rtnl conformance fault cases), so it stays inline until that is
    /// understood.
    case update(Item, previous: Item)
    /// An owned item is no longer wanted (for sysctl and cgroup files:
    /// released, which may mean writing the original value back).
    case delete(Item)

    /// The item the op acts on: desired for create/update, observed for delete.
    public var item: Item {
        switch self {
        case .create(let item), .update(let item, _), .delete(let item): item
        }
    }

    /// `+`, `~` or `-`, as plans print them.
    public var symbol: Character {
        switch self {
        case .create: "+"
        case .update: "~"
        case .delete: "-"
        }
    }
}

extension ReconcileOp: CustomStringConvertible where Item: CustomStringConvertible {
    public var description: String {
        switch self {
        case .create(let item): "+ \(item)"
        case .update(let item, let previous): "~ \(previous) -> \(item)"
        case .delete(let item): "- \(item)"
        }
    }
}
