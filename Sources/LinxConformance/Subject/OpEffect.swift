/// What one op does to a scope, in snapshot terms: the subject's translation
/// of a ``/LinxReconcile/ReconcileOp`` into the entries it writes, removes or may disturb.
///
/// The suite uses it to check that a report is honest: an applied op's effect
/// must be visible afterwards, a pending op's must not, and every change seen
/// between two snapshots must be explained by some op the report names.
public struct OpEffect<Key: Hashable & Sendable & CustomStringConvertible, Value: Hashable & Sendable & CustomStringConvertible>: Sendable {
    /// Most ops set or remove exactly one entry: that case is held without a
    /// dictionary or a set (the audit asks for an effect per op of every
    /// pass of every fuzzed scenario, and building one collection per op was
    /// a tenth of its time).
    enum Storage: Sendable {
        case setting(Key, Value)
        case removing(Key)
        case collections(sets: [Key: Value], removes: Set<Key>)
    }

    /// Read by the audit's loops directly (a switch, no closure per op).
    private(set) var storage: Storage

    /// Entries the op leaves with exactly this value.
    public var sets: [Key: Value] {
        get {
            switch storage {
            case .setting(let key, let value): [key: value]
            case .removing: [:]
            case .collections(let sets, _): sets
            }
        }
        set { storage = .collections(sets: newValue, removes: removes) }
    }

    /// Entries the op leaves absent.
    public var removes: Set<Key> {
        get {
            switch storage {
            case .setting: []
            case .removing(let key): [key]
            case .collections(_, let removes): removes
            }
        }
        set { storage = .collections(sets: sets, removes: newValue) }
    }

    /// Entries the op may change as a side effect whose outcome the subject
    /// cannot predict (a connected route appearing with an address, a
    /// released sysctl going back to a value only the kernel knows).
    public var mayChange: Set<Key>

    public init(sets: [Key: Value] = [:], removes: Set<Key> = [], mayChange: Set<Key> = []) {
        storage = .collections(sets: sets, removes: removes)
        self.mayChange = mayChange
    }

    /// The effect of an op that leaves `key` with exactly `value` and
    /// touches nothing else: `OpEffect(sets: [key: value])`, without the
    /// dictionary.
    public init(setting key: Key, to value: Value) {
        storage = .setting(key, value)
        mayChange = []
    }

    /// The effect of an op that leaves `key` absent and touches nothing
    /// else: `OpEffect(removes: [key])`, without the set.
    public init(removing key: Key) {
        storage = .removing(key)
        mayChange = []
    }

    /// Adds every key the op may touch to `keys`, without building a set.
    public func addTouchedKeys(to keys: inout Set<Key>) {
        switch storage {
        case .setting(let key, _), .removing(let key):
            keys.insert(key)
        case .collections(let sets, let removes):
            for key in sets.keys { keys.insert(key) }
            for key in removes { keys.insert(key) }
        }
        for key in mayChange { keys.insert(key) }
    }

    /// Every key the op may touch.
    public var touchedKeys: Set<Key> {
        var keys = Set<Key>()
        addTouchedKeys(to: &keys)
        return keys
    }

    /// The one key the op touches, when it touches exactly one (sets or
    /// removes it, may change nothing else); nil otherwise.
    var onlyKey: Key? {
        guard mayChange.isEmpty else { return nil }
        switch storage {
        case .setting(let key, _), .removing(let key): return key
        case .collections(let sets, let removes):
            if sets.count == 1 && removes.isEmpty { return sets.first!.key }
            if sets.isEmpty && removes.count == 1 { return removes.first! }
            return nil
        }
    }

    /// Calls `body` with each entry the op sets, in ``sets``' order.
    func forEachSet(_ body: (Key, Value) -> Void) {
        switch storage {
        case .setting(let key, let value): body(key, value)
        case .removing: break
        case .collections(let sets, _): for (key, value) in sets { body(key, value) }
        }
    }

    /// Calls `body` with each entry the op removes, in ``removes``' order.
    func forEachRemove(_ body: (Key) -> Void) {
        switch storage {
        case .setting: break
        case .removing(let key): body(key)
        case .collections(_, let removes): for key in removes { body(key) }
        }
    }

    /// Whether the op sets `key` (to any value).
    func setsKey(_ key: Key) -> Bool {
        switch storage {
        case .setting(let only, _): only == key
        case .removing: false
        case .collections(let sets, _): sets[key] != nil
        }
    }
}
