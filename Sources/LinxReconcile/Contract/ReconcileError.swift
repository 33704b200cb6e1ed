/// Why a reconcile pass could not run at all. Nothing was applied.
///
/// Per-op kernel failures are not errors of the pass: they are in the
/// report's `failed`. This type is reserved for a pass that never started
/// applying: the desired state is invalid, the kernel could not be observed,
/// or the scope does not exist.
public enum ReconcileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The desired state was rejected before anything was applied.
    /// `entry` names the offending entry as the user wrote it.
    case invalidDesired(entry: String, reason: String)
    /// Observing `resource` (links, routes, a sysctl key ...) failed.
    case observeFailed(resource: String, error: KernelError)
    /// The scope itself (a netns, a cgroup directory) is missing or unusable.
    case scopeUnavailable(scope: String, reason: String)

    public var description: String {
        switch self {
        case .invalidDesired(let entry, let reason):
            "invalid desired state: \(entry): \(reason)"
        case .observeFailed(let resource, let error):
            "could not observe \(resource): \(error)"
        case .scopeUnavailable(let scope, let reason):
            "scope \(scope) unavailable: \(reason)"
        }
    }
}
