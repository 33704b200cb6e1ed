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
    /// Boxed (`indirect`): two items inline made every op, in plans mostly
    /// creates, twice the size of one (65,536 route creates were 16 MB, not
    /// 8).
    // Changing `indirect` changes the layout of every op but not the
    // interface of the files that only pass ops along (RtnlPlan, the
    // conformance cases), so an incremental debug build keeps their stale
    // object files, which then crash copying an op (swift_retain on a bad
    // pointer in RtnlReconciler.wildcardDeletes): rebuild clean after such a
    // change (`rm -rf .build/*/debug/*.build`). A clean build passes.
    indirect case update(Item, previous: Item)
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
