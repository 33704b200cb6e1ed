import Foundation

/// Ownership (`lastApplied`) kept between `linx apply` runs, one file per scope.
///
/// Written atomically (see ``AtomicJSON``) so a crash mid-write leaves the
/// previous state intact. A missing or unreadable file means "owns nothing",
/// never "delete everything": the worst a lost state file can do is leave
/// our objects in place, it can never make us delete someone else's.
///
/// Every file records its scope (``StateScope``) and is refused for another
/// one. A file from before scopes were recorded is accepted only at its
/// scope's default path, where earlier versions of linx wrote one file per
/// scope, and is rewritten with its scope; anywhere else (`--state FILE`)
/// nothing says which namespace it was for, so it is refused.
struct StateFile {
    /// Default location for a scope: /var/lib/linx/<scope-slug>.json.
    static func defaultPath(forScope slug: String) -> String { "/var/lib/linx/\(slug).json" }

    /// Where the state is kept; nil when it is not kept at all (a simulated
    /// host without `--sim-state` is thrown away on exit, its ownership with it).
    let path: String?
    /// The scope the command acts in, recorded in every write.
    let scope: StateScope
    /// Whether `path` is the scope's default (not `--state`).
    let isDefaultPath: Bool

    /// Whether there is a file to read.
    var exists: Bool { path.map(RegularFile.exists) ?? false }

    /// Takes the lock a changing command holds until it exits (nil when no
    /// state is kept).
    func lock() throws(CommandError) -> StateLock? {
        guard let path else { return nil }
        do { try RegularFile.check(path) } catch {
            throw CommandError("cannot use state file \(path): \(error.description)")
        }
        return try StateLock.acquire(path, what: "state file")
    }

    /// The stored state, with a warning when there is none usable (a missing
    /// or corrupt file owns nothing). Throws when the file belongs to another scope.
    func load() throws(CommandError) -> (state: HostState, warning: String?) {
        guard let path else { return (HostState(), nil) }
        guard RegularFile.exists(path) else {
            return (HostState(), "no state file at \(path): assuming linx owns nothing in this scope yet")
        }
        let state: HostState
        do {
            state = try JSONDecoder().decode(HostState.self, from: Data(try RegularFile.read(path)))
        } catch {
            return (HostState(), "state file \(path) is unreadable or corrupt (\(Self.reason(error))): assuming linx owns nothing; nothing will be deleted")
        }
        guard let recorded = state.scope else {
            guard isDefaultPath else {
                throw CommandError(
                    "state file \(path) does not record which scope it belongs to (written by an older linx), "
                        + "so it cannot be used for \(scope.netns): move it to this scope's default path "
                        + "(omit --state) if it was written for it, or remove it to start owning nothing")
            }
            return (state, nil)
        }
        switch scope.verdict(for: recorded) {
        case .same:
            return (state, nil)
        case .gone(let why):
            return (HostState(), "state file \(path) \(why): assuming linx owns nothing in \(scope.netns)")
        case .other(let why):
            throw CommandError(
                "state file \(path) belongs to another scope: \(why); refusing to use its ownership here "
                    + "(give this scope its own --state file; if that namespace is gone, so is what linx "
                    + "installed in it, and the file can be removed)")
        }
    }

    /// Replaces the file atomically, recording this scope (nothing to do
    /// when the state is not kept).
    func save(_ state: HostState) throws(CommandError) {
        guard let path else { return }
        var stamped = state
        stamped.scope = scope
        try AtomicJSON.write(stamped, to: path, what: "state file")
    }

    private static func reason(_ error: any Error) -> String {
        if let failure = error as? RegularFile.Failure { return failure.description }
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
                return context.debugDescription
            @unknown default: return "\(decoding)"
            }
        }
        return (error as NSError).localizedDescription
    }
}
