import Foundation

/// Ownership (`lastApplied`) kept between `linx apply` runs, one file per scope.
///
/// Written atomically (see ``AtomicJSON``) so a crash mid-write leaves the
/// previous state intact. A missing or unreadable file means "owns nothing",
/// never "delete everything": the worst a lost state file can do is leave
/// our objects in place, it can never make us delete someone else's.
struct StateFile {
    /// Default location for a scope: /var/lib/linx/<scope-slug>.json.
    static func defaultPath(forScope slug: String) -> String { "/var/lib/linx/\(slug).json" }

    /// Where the state is kept; nil when it is not kept at all (a simulated
    /// host without `--sim-state` is thrown away on exit, its ownership with it).
    let path: String?

    /// Whether there is a file to read.
    var exists: Bool { path.map { FileManager.default.fileExists(atPath: $0) } ?? false }

    /// The stored state, or nil (with the reason, for a warning) when there is none usable.
    func load<State: Decodable>(_ type: State.Type) -> (state: State?, warning: String?) {
        guard let path else { return (nil, nil) }
        guard FileManager.default.fileExists(atPath: path) else {
            return (nil, "no state file at \(path): assuming linx owns nothing in this scope yet")
        }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return (try JSONDecoder().decode(State.self, from: data), nil)
        } catch {
            return (nil, "state file \(path) is unreadable or corrupt (\(error.localizedDescription)): assuming linx owns nothing; nothing will be deleted")
        }
    }

    /// Replaces the file atomically (nothing to do when the state is not kept).
    func save(_ state: some Encodable) throws(CommandError) {
        guard let path else { return }
        try AtomicJSON.write(state, to: path, what: "state file")
    }
}
