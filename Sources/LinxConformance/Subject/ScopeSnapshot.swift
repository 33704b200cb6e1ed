/// What is really in a scope, read by the subject without going through the
/// Source under test: a flat map from an entry's identity to its value.
///
/// Every check the suite makes (foreign state intact, drift healed, nothing
/// unreported changed, an invalid desired state left the scope alone) is a
/// comparison of two snapshots, so a subject only has to say how to read its
/// scope into one. Keys and values are the subject's own types; `String` for
/// both is the simplest choice and is what the hosts example uses.
public struct ScopeSnapshot<Key: Hashable & Sendable & CustomStringConvertible, Value: Hashable & Sendable & CustomStringConvertible>:
    Sendable, Hashable, CustomStringConvertible
{
    /// Identity -> value of every entry in the scope.
    public var entries: [Key: Value]

    public init(_ entries: [Key: Value] = [:]) {
        self.entries = entries
    }

    public subscript(key: Key) -> Value? {
        get { entries[key] }
        set { entries[key] = newValue }
    }

    public var count: Int { entries.count }

    /// The keys whose value differs between `self` and `other`, including keys
    /// present in only one of them.
    public func changedKeys(to other: ScopeSnapshot) -> Set<Key> {
        var changed = Set<Key>()
        var shared = 0
        for (key, value) in entries {
            guard let theirs = other.entries[key] else {
                changed.insert(key)
                continue
            }
            shared += 1
            if theirs != value { changed.insert(key) }
        }
        // When every key of `other` is one of ours there is nothing only it
        // holds: the usual case, and it saves a second lookup per entry.
        if shared < other.entries.count {
            for key in other.entries.keys where entries[key] == nil { changed.insert(key) }
        }
        return changed
    }

    /// One line per entry of `expected` that `self` lacks or holds with
    /// another value; empty when every expected entry is present.
    public func violations(of expected: [Key: Value]) -> [String] {
        var lines: [String] = []
        for (key, value) in expected {
            switch entries[key] {
            case nil: lines.append("\(key): missing, expected \(value)")
            case let actual? where actual != value: lines.append("\(key): is \(actual), expected \(value)")
            default: break
            }
        }
        return lines.sorted()
    }

    /// "key: old -> new" lines for every changed key, sorted, for failure reports.
    public func describeChanges(to other: ScopeSnapshot) -> [String] {
        changedKeys(to: other).map { key in
            "\(key): \(entries[key].map { "\($0)" } ?? "absent") -> \(other.entries[key].map { "\($0)" } ?? "absent")"
        }.sorted()
    }

    public var description: String {
        entries.map { "\($0.key) = \($0.value)" }.sorted().joined(separator: "\n")
    }
}
