import LinxKernelSim
import LinxReconcile

/// Keys a flat subject uses (a sysctl name, a cgroup interface file), each
/// with a generator of valid values for it.
package typealias FlatKeyTable<Value> = [(key: String, value: @Sendable (inout SimRandom) -> Value)]

/// The draws the flat key -> value subjects (sysctl and cgroup, simulated and
/// real) share, so their cases are built one way. Each helper draws from the
/// ``/LinxKernelSim/SimRandom`` in a fixed order: changing that order changes what every seed
/// means, so callers rely on it staying as it is.
package enum FlatKeyDraws {
    /// A desired map of `count` draws from `table` (a key drawn twice keeps its
    /// last value, so the map may hold fewer entries).
    package static func desired<Value>(
        from table: FlatKeyTable<Value>, count: ClosedRange<Int>, using random: inout SimRandom
    ) -> [String: Value] {
        var values: [String: Value] = [:]
        for _ in 0..<random.int(in: count) {
            let (key, value) = random.pick(table)
            values[key] = value(&random)
        }
        return values
    }

    /// One key of `values` picked to release, with the rest; nil when empty.
    package static func release<Value>(from values: [String: Value], using random: inout SimRandom)
        -> (key: String, rest: [String: Value])?
    {
        guard !values.isEmpty else { return nil }
        let key = random.pick(values.keys.sorted())
        var rest = values
        rest[key] = nil
        return (key, rest)
    }

    /// One to three foreign writes drawn from `table`; `write` applies a
    /// key's text and returns what the kernel then holds for it (nil: gone).
    package static func foreignWrites(
        from table: FlatKeyTable<String>, using random: inout SimRandom,
        write: (String, String) throws -> String?
    ) rethrows -> [String: String] {
        var made: [String: String] = [:]
        for _ in 0..<random.int(in: 1...3) {
            let (key, value) = random.pick(table)
            let text = value(&random)
            made[key] = try write(key, text)
        }
        return made
    }

    /// One to three drift steps: mostly a desired key rewritten behind the
    /// Source's back with another valid value from `table` (via `write`; a
    /// write the kernel refuses changes nothing and is labelled so),
    /// otherwise a round of foreign state (via `foreign`).
    package static func drift<Value>(
        desired: [String: Value], table: FlatKeyTable<Value>, text: (Value) -> String,
        using random: inout SimRandom,
        write: (String, String) throws -> Void,
        foreign: (inout SimRandom) async throws -> [String: String]
    ) async throws -> Drift<String, String> {
        var labels: [String] = []
        var added: [String: String] = [:]
        for _ in 0..<random.int(in: 1...3) {
            if random.chance(0.7), let key = desired.keys.sorted().randomElement(using: &random),
                let generator = table.first(where: { $0.key == key })?.value
            {
                let value = text(generator(&random))
                do {
                    try write(key, value)
                    labels.append("\(key) = \(value)")
                } catch {
                    // The kernel refused the foreign writer (a value its partner key
                    // forbids): nothing changed, and the rest of the drift still runs.
                    labels.append("\(key) = \(value) refused (\(error))")
                }
            } else {
                let made = try await foreign(&random)
                added.merge(made) { _, new in new }
                labels.append("foreign \(made.keys.sorted().joined(separator: ", "))")
            }
        }
        return Drift(labels.joined(separator: "; "), addedForeign: added)
    }
}
