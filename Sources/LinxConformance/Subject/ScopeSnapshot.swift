import Synchronization

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
    public var entries: [Key: Value] {
        didSet { reading = ScopeReading.next() }
    }

    /// Which reading this is: fresh for every snapshot made and after every
    /// change to one, shared only by copies of one unchanged value. Equal
    /// readings therefore hold equal entries, which an audit learns without
    /// comparing them (a subject that hands back its last snapshot when the
    /// scope did not change makes a quiet pass's checks free). Not part of
    /// `==` or the hash: two readings may hold equal entries.
    package private(set) var reading: ScopeReading

    public init(_ entries: [Key: Value] = [:]) {
        self.entries = entries
        reading = ScopeReading.next()
    }

    public static func == (a: ScopeSnapshot, b: ScopeSnapshot) -> Bool {
        a.reading == b.reading || a.entries == b.entries
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(entries)
    }

    public subscript(key: Key) -> Value? {
        get { entries[key] }
        set { entries[key] = newValue }
    }

    public var count: Int { entries.count }

    /// The keys whose value differs between `self` and `other`, including keys
    /// present in only one of them.
    public func changedKeys(to other: ScopeSnapshot) -> Set<Key> {
        if reading == other.reading { return [] }
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

    /// Calls `body` with each key whose value differs between `self` and
    /// `other` (as ``changedKeys(to:)`` finds them) and its value in each,
    /// without building a set.
    func forEachChange(to other: ScopeSnapshot, _ body: (Key, Value?, Value?) -> Void) {
        if reading == other.reading { return }
        var shared = 0
        for (key, value) in entries {
            guard let theirs = other.entries[key] else {
                body(key, value, nil)
                continue
            }
            shared += 1
            if theirs != value { body(key, value, theirs) }
        }
        if shared < other.entries.count {
            for (key, value) in other.entries where entries[key] == nil { body(key, nil, value) }
        }
    }

    /// The ``violations(of:)`` line for one expected entry, nil when `actual` is it.
    static func violation(_ key: Key, expected value: Value, actual: Value?) -> String? {
        switch actual {
        case nil: "\(key): missing, expected \(value)"
        case let actual? where actual != value: "\(key): is \(actual), expected \(value)"
        default: nil
        }
    }

    /// The keys of `expected` that `self` lacks or holds with another
    /// value: the entries ``violations(of:)`` has a line for.
    func violatedKeys(of expected: [Key: Value]) -> Set<Key> {
        var keys = Set<Key>()
        for (key, value) in expected where entries[key] != value { keys.insert(key) }
        return keys
    }

    /// One line per entry of `expected` that `self` lacks or holds with
    /// another value; empty when every expected entry is present.
    public func violations(of expected: [Key: Value]) -> [String] {
        var lines: [String] = []
        for (key, value) in expected {
            if let line = Self.violation(key, expected: value, actual: entries[key]) { lines.append(line) }
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

/// The identity of one ``ScopeSnapshot`` reading (see its `reading`).
package struct ScopeReading: Hashable, Sendable {
    private let number: UInt64

    /// A reading no snapshot has had before.
    static func next() -> ScopeReading {
        ScopeReading(number: scopeReadings.wrappingAdd(1, ordering: .relaxed).newValue)
    }
}

private let scopeReadings = Atomic<UInt64>(0)
