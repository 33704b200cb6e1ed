/// The ``ReconcileSource`` adapter over ``SysctlReconciler``. The scope is the
/// network namespace to act in. It has no monitor (procfs has no change
/// notification): the loop runs it on its timer.
public struct SysctlSource: ReconcileSource {
    /// The network namespace a pass acts in.
    public typealias Scope = NetnsScope
    /// Key -> value.
    public typealias Desired = SysctlDesiredState
    /// Owned keys and their original values.
    public typealias LastApplied = SysctlLastApplied
    /// Every readable `net.` key and its value.
    public typealias Observed = [SysctlKey: String]
    /// `revertOnRelease`, `allowHostWideKeys`.
    public typealias Options = SysctlOptions
    /// A key with a value.
    public typealias Item = SysctlSetting

    /// The reconciler this Source delegates to.
    public let reconciler: SysctlReconciler

    /// A Source acting on `backend`.
    public init(backend: any SysctlBackend) {
        reconciler = SysctlReconciler(backend: backend)
    }

    /// One pass; see ``SysctlReconciler/reconcile(in:desired:lastApplied:options:)``.
    public func reconcile(
        scope: NetnsScope, desired: SysctlDesiredState, lastApplied: SysctlLastApplied, options: SysctlOptions
    ) async throws(ReconcileError) -> ReconcileReport<SysctlSetting, SysctlLastApplied> {
        try await reconciler.reconcile(in: scope, desired: desired, lastApplied: lastApplied, options: options)
    }

    /// Every readable `net.` key of the scope.
    public func observe(scope: NetnsScope, options: SysctlOptions) async throws(ReconcileError) -> [SysctlKey: String] {
        try await reconciler.observe(in: scope)
    }

    /// procfs has no change notification: timer-only.
    public func subscribe(scope: NetnsScope) async throws(ReconcileError) -> HintSubscription {
        .unsupported
    }
}
