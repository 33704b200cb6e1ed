/// The ``ReconcileSource`` adapter over ``CgroupReconciler``. The scope is
/// the cgroup's absolute directory path. It has no monitor: the loop runs it
/// on its timer.
public struct CgroupSource: ReconcileSource {
    /// The cgroup directory, e.g. `/sys/fs/cgroup/myorg/web-42`.
    public typealias Scope = String
    /// Interface file -> value.
    public typealias Desired = CgroupDesiredState
    /// The owned files.
    public typealias LastApplied = CgroupLastApplied
    /// Every readable interface file and its value.
    public typealias Observed = [String: String]
    /// The page size limits round to.
    public typealias Options = CgroupOptions
    /// A file with a value.
    public typealias Item = CgroupSetting

    /// The reconciler this Source delegates to.
    public let reconciler: CgroupReconciler

    /// A Source acting on `backend`.
    public init(backend: any CgroupBackend) {
        reconciler = CgroupReconciler(backend: backend)
    }

    /// One pass; see ``CgroupReconciler/reconcile(in:desired:lastApplied:options:)``.
    public func reconcile(
        scope: String, desired: CgroupDesiredState, lastApplied: CgroupLastApplied, options: CgroupOptions
    ) async throws(ReconcileError) -> ReconcileReport<CgroupSetting, CgroupLastApplied> {
        try await reconciler.reconcile(in: scope, desired: desired, lastApplied: lastApplied, options: options)
    }

    /// Every readable interface file of the cgroup.
    public func observe(scope: String, options: CgroupOptions) async throws(ReconcileError) -> [String: String] {
        try await reconciler.observe(in: scope)
    }

    /// cgroupfs has no change notification for limits: timer-only.
    public func subscribe(scope: String) async throws(ReconcileError) -> HintSubscription {
        .unsupported
    }
}
