/// Why a reconcile pass could not run at all. Nothing was applied.
///
/// Per-op kernel failures are not errors of the pass: they are in the
/// report's `failed`. This type is reserved for a pass that never started
/// applying: the desired state is invalid, the kernel could not be observed,
/// or the scope does not exist.
public enum ReconcileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The desired state was rejected before anything was applied.
    /// `entry` names the offending entry as the user wrote it; `path`, when
    /// the Source gives one, says where it sits in the desired state, so a
    /// caller can map it to a file line (see ``DesiredPath``).
    case invalidDesired(entry: String, reason: String, path: DesiredPath? = nil)
    /// Observing `resource` (links, routes, a sysctl key ...) failed.
    case observeFailed(resource: String, error: KernelError)
    /// The scope itself (a netns, a cgroup directory) is missing or unusable.
    case scopeUnavailable(scope: String, reason: String)

    public var description: String {
        switch self {
        case .invalidDesired(let entry, let reason, _):
            "invalid desired state: \(entry): \(reason)"
        case .observeFailed(let resource, let error):
            "could not observe \(resource): \(error)"
        case .scopeUnavailable(let scope, let reason):
            "scope \(scope) unavailable: \(reason)"
        }
    }

    /// The same error placed at `path`, when it is an invalid desired state
    /// that does not say where yet (for a Source that checks its state entry
    /// by entry and knows which one it is at).
    public func at(_ path: DesiredPath) -> ReconcileError {
        guard case .invalidDesired(let entry, let reason, nil) = self else { return self }
        return .invalidDesired(entry: entry, reason: reason, path: path)
    }

    /// For an invalid desired state, where the entry sits (nil otherwise, or
    /// when the Source did not say).
    public var path: DesiredPath? {
        if case .invalidDesired(_, _, let path) = self { return path }
        return nil
    }
}
