import LinxReconcile

/// A machine's namespaces by scope, as a dictionary's subscript reads and
/// writes them, kept as two parallel arrays searched from the start.
///
/// A machine holds a handful of namespaces, and every backend request looks
/// its namespace up: hashing a scope costs far more than comparing it to
/// each (a `.path` scope's hash first parses the path for a pid, then hashes
/// all of it; `==` is one string comparison, usually of the very same
/// storage). Nothing walks this map in its storage order: walks follow
/// ``SimState/namespaceOrder``.
struct SimNamespaceMap: Sendable, ExpressibleByDictionaryLiteral {
    private var scopes: [NetnsScope] = []
    /// Optional only so ``subscript(_:)``'s modify can move a namespace out
    /// and back without copying its storage; never nil between accesses.
    private var namespaces: [SimNetns?] = []

    init(dictionaryLiteral elements: (NetnsScope, SimNetns)...) {
        for (scope, namespace) in elements { self[scope] = namespace }
    }

    /// Where `scope`'s namespace sits, nil when there is none.
    func slot(of scope: NetnsScope) -> Int? { scopes.firstIndex(of: scope) }

    /// The namespace at `slot` (from ``slot(of:)``), in place.
    mutating func modify<T, E: Error>(slot: Int, _ body: (inout SimNetns) throws(E) -> T) throws(E) -> T {
        try body(&namespaces[slot]!)
    }

    /// The namespace `scope` names, nil when there is none; assigning nil
    /// removes it. Modifying through it works in place.
    subscript(scope: NetnsScope) -> SimNetns? {
        // Inlined, so that `map[scope]?.field` copies only the field read,
        // not the whole namespace (a retain per field): the optimiser
        // cannot see through a closure or a coroutine here.
        @inline(__always) get {
            guard let found = slot(of: scope) else { return nil }
            return namespaces[found]
        }
        set {
            var value = newValue
            settle(&value, at: slot(of: scope), for: scope)
        }
        _modify {
            var value: SimNetns?
            let found = slot(of: scope)
            if let found { swap(&value, &namespaces[found]) }
            defer { settle(&value, at: found, for: scope) }
            yield &value
        }
    }

    /// Puts `value` where `scope`'s namespace sits (`found`), or removes
    /// that slot for nil; adds it when `scope` had none.
    private mutating func settle(_ value: inout SimNetns?, at found: Int?, for scope: NetnsScope) {
        if let found {
            if value != nil {
                swap(&value, &namespaces[found])
            } else {
                scopes.remove(at: found)
                namespaces.remove(at: found)
            }
        } else if let value {
            scopes.append(scope)
            namespaces.append(value)
        }
    }

    /// Every namespace, in no particular order.
    var values: [SimNetns] { namespaces.map { $0! } }
}
