/// The plug-in contract a ``ReconcileLoop`` drives, and that the conformance
/// suite checks: one subsystem, in one scope, one pass at a time.
///
/// Each subsystem keeps its own rich single-shot API; a Source is the thin
/// adapter over it. A pass returns a report even when some ops failed, and
/// throws ``ReconcileError`` only when it could not run at all, in which case
/// nothing was applied and the caller keeps its previous `lastApplied`.
public protocol ReconcileSource: Sendable {
    /// Where the Source acts (a netns, a cgroup directory ...). Opaque to the loop.
    associatedtype Scope: Sendable
    /// The desired state, in the subsystem's own shape.
    associatedtype Desired: Sendable
    /// Ownership threaded between passes. `empty` owns nothing.
    associatedtype LastApplied: Sendable & Equatable
    /// Observed kernel state, in the subsystem's own shape.
    associatedtype Observed: Sendable
    /// Subsystem options (rtnl's protocol tag, sysctl's revertOnRelease ...).
    associatedtype Options: Sendable
    /// The unit of change reported in ops.
    associatedtype Item: Sendable & Hashable

    /// Runs one observe-diff-apply pass.
    func reconcile(
        scope: Scope, desired: Desired, lastApplied: LastApplied, options: Options
    ) async throws(ReconcileError) -> ReconcileReport<Item, LastApplied>

    /// Starts a monitor of `scope`, or says the Source has none.
    func subscribe(scope: Scope) async throws(ReconcileError) -> HintSubscription

    /// Reads the scope's current state, for diagnostics and `linx show`.
    /// The loop never calls it: `reconcile` observes on its own.
    func observe(scope: Scope, options: Options) async throws(ReconcileError) -> Observed
}

extension ReconcileSource {
    /// Timer-only by default.
    public func subscribe(scope: Scope) async throws(ReconcileError) -> HintSubscription {
        .unsupported
    }
}

