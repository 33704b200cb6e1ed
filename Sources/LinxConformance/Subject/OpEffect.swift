/// What one op does to a scope, in snapshot terms: the subject's translation
/// of a ``/LinxReconcile/ReconcileOp`` into the entries it writes, removes or may disturb.
///
/// The suite uses it to check that a report is honest: an applied op's effect
/// must be visible afterwards, a pending op's must not, and every change seen
/// between two snapshots must be explained by some op the report names.
public struct OpEffect<Key: Hashable & Sendable & CustomStringConvertible, Value: Hashable & Sendable & CustomStringConvertible>: Sendable {
    /// Entries the op leaves with exactly this value.
    public var sets: [Key: Value]
    /// Entries the op leaves absent.
    public var removes: Set<Key>
    /// Entries the op may change as a side effect whose outcome the subject
    /// cannot predict (a connected route appearing with an address, a
    /// released sysctl going back to a value only the kernel knows).
    public var mayChange: Set<Key>

    public init(sets: [Key: Value] = [:], removes: Set<Key> = [], mayChange: Set<Key> = []) {
        self.sets = sets
        self.removes = removes
        self.mayChange = mayChange
    }

    /// Adds every key the op may touch to `keys`, without building a set.
    public func addTouchedKeys(to keys: inout Set<Key>) {
        for key in sets.keys { keys.insert(key) }
        for key in removes { keys.insert(key) }
        for key in mayChange { keys.insert(key) }
    }

    /// Every key the op may touch.
    public var touchedKeys: Set<Key> {
        Set(sets.keys).union(removes).union(mayChange)
    }
}
