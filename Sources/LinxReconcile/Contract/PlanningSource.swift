/// A ``ReconcileSource`` whose pass splits into a plan (observe, validate,
/// diff: nothing changes) and an apply of exactly that plan.
///
/// The split is what lets several Sources be checked together before any of
/// them touches the kernel (``ReconcileGroup``): a node agent that manages
/// addresses, sysctls and cgroups gets "an invalid entry anywhere changes
/// nothing", as `linx apply` does. The built-in Sources conform; a
/// third-party Source conforms by exposing its own plan type.
public protocol PlanningSource: ReconcileSource {
    /// What one pass would do, computed from one observation.
    associatedtype Plan: Sendable

    /// Observes `scope`, validates `desired` and computes the ops, applying
    /// nothing. Throws ``ReconcileError`` exactly when ``ReconcileSource/reconcile(scope:desired:lastApplied:options:)``
    /// would.
    func plan(
        scope: Scope, desired: Desired, lastApplied: LastApplied, options: Options
    ) async throws(ReconcileError) -> Plan

    /// Applies a plan made by ``plan(scope:desired:lastApplied:options:)``
    /// with the same scope, ownership and options.
    func apply(
        _ plan: Plan, scope: Scope, lastApplied: LastApplied, options: Options
    ) async -> ReconcileReport<Item, LastApplied>

    /// The ops `plan` holds, in apply order.
    func ops(of plan: Plan) -> [ReconcileOp<Item>]

    /// ``plan(scope:desired:lastApplied:options:)``, except that when
    /// `deferringCheck` is true the Source may leave out a check of
    /// `desired` that applying the plan repeats all or nothing (a new
    /// nf_tables table: the dry run of the very transaction the apply
    /// commits). `checkDeferred` says whether it did; such a plan must be
    /// applied with ``applyChecking(_:scope:lastApplied:options:)``, whose
    /// refusal changes nothing and is the error the check would have thrown.
    ///
    /// The default never defers: it is ``plan(scope:desired:lastApplied:options:)``.
    func plan(
        scope: Scope, desired: Desired, lastApplied: LastApplied, options: Options, deferringCheck: Bool
    ) async throws(ReconcileError) -> (plan: Plan, checkDeferred: Bool)

    /// Applies a plan whose check was deferred: either the whole plan is
    /// carried out (the report says so) or nothing is changed and this
    /// throws the ``ReconcileError`` the deferred check would have thrown.
    /// For any other plan it is ``apply(_:scope:lastApplied:options:)``.
    ///
    /// The default is ``apply(_:scope:lastApplied:options:)``.
    func applyChecking(
        _ plan: Plan, scope: Scope, lastApplied: LastApplied, options: Options
    ) async throws(ReconcileError) -> ReconcileReport<Item, LastApplied>
}

extension PlanningSource {
    /// Never defers: the full ``plan(scope:desired:lastApplied:options:)``.
    public func plan(
        scope: Scope, desired: Desired, lastApplied: LastApplied, options: Options, deferringCheck: Bool
    ) async throws(ReconcileError) -> (plan: Plan, checkDeferred: Bool) {
        (try await plan(scope: scope, desired: desired, lastApplied: lastApplied, options: options), false)
    }

    /// ``apply(_:scope:lastApplied:options:)``: nothing was deferred.
    public func applyChecking(
        _ plan: Plan, scope: Scope, lastApplied: LastApplied, options: Options
    ) async throws(ReconcileError) -> ReconcileReport<Item, LastApplied> {
        await apply(plan, scope: scope, lastApplied: lastApplied, options: options)
    }
}

extension RtnlSource: PlanningSource {
    /// One observation's ops; see ``RtnlReconciler/plan(in:desired:lastApplied:options:)``.
    public func plan(
        scope: NetnsScope, desired: RtnlDesiredState, lastApplied: RtnlLastApplied, options: RtnlOptions
    ) async throws(ReconcileError) -> RtnlPlan {
        try await reconciler.plan(in: scope, desired: desired, lastApplied: lastApplied, options: options)
    }

    /// Applies `plan` in one fail-fast batch.
    public func apply(
        _ plan: RtnlPlan, scope: NetnsScope, lastApplied: RtnlLastApplied, options: RtnlOptions
    ) async -> ReconcileReport<RtnlObject, RtnlLastApplied> {
        await reconciler.apply(plan, in: scope, options: options)
    }

    /// The plan's ops.
    public func ops(of plan: RtnlPlan) -> [ReconcileOp<RtnlObject>] { plan.ops }
}

extension SysctlSource: PlanningSource {
    /// The keys' ops; see ``SysctlReconciler/plan(in:desired:lastApplied:options:)``.
    public func plan(
        scope: NetnsScope, desired: SysctlDesiredState, lastApplied: SysctlLastApplied, options: SysctlOptions
    ) async throws(ReconcileError) -> SysctlPlan {
        try await reconciler.plan(in: scope, desired: desired, lastApplied: lastApplied, options: options)
    }

    /// Applies `plan`, best-effort.
    public func apply(
        _ plan: SysctlPlan, scope: NetnsScope, lastApplied: SysctlLastApplied, options: SysctlOptions
    ) async -> ReconcileReport<SysctlSetting, SysctlLastApplied> {
        await reconciler.apply(plan, lastApplied: lastApplied, in: scope, options: options)
    }

    /// The plan's ops.
    public func ops(of plan: SysctlPlan) -> [ReconcileOp<SysctlSetting>] { plan.ops }
}

extension CgroupSource: PlanningSource {
    /// The files' ops; see ``CgroupReconciler/plan(in:desired:lastApplied:options:)``.
    public func plan(
        scope: String, desired: CgroupDesiredState, lastApplied: CgroupLastApplied, options: CgroupOptions
    ) async throws(ReconcileError) -> CgroupPlan {
        try await reconciler.plan(in: scope, desired: desired, lastApplied: lastApplied, options: options)
    }

    /// Applies `plan`, best-effort.
    public func apply(
        _ plan: CgroupPlan, scope: String, lastApplied: CgroupLastApplied, options: CgroupOptions
    ) async -> ReconcileReport<CgroupSetting, CgroupLastApplied> {
        await reconciler.apply(plan, lastApplied: lastApplied, in: scope, options: options)
    }

    /// The plan's ops.
    public func ops(of plan: CgroupPlan) -> [ReconcileOp<CgroupSetting>] { plan.ops }
}

extension NftablesSource: PlanningSource {
    /// The table's ops; see ``NftablesReconciler/plan(in:desired:options:)``.
    public func plan(
        scope: NftScope, desired: NftTable?, lastApplied: NftLastApplied, options: NftablesOptions
    ) async throws(ReconcileError) -> NftPlan {
        try await reconciler.plan(in: scope, desired: desired, options: options)
    }

    /// Commits `plan` as one transaction, re-planning on ERESTART; see
    /// ``NftablesReconciler/apply(_:options:)``.
    public func apply(
        _ plan: NftPlan, scope: NftScope, lastApplied: NftLastApplied, options: NftablesOptions
    ) async -> ReconcileReport<NftObject, NftLastApplied> {
        await reconciler.apply(plan, options: options)
    }

    /// The plan's ops.
    public func ops(of plan: NftPlan) -> [ReconcileOp<NftObject>] { plan.ops }

    /// With `deferringCheck`, a table that does not exist yet is planned as
    /// written without the kernel's dry run; its commit is the check. See
    /// ``NftablesReconciler/plan(in:desired:options:checked:)``.
    public func plan(
        scope: NftScope, desired: NftTable?, lastApplied: NftLastApplied, options: NftablesOptions, deferringCheck: Bool
    ) async throws(ReconcileError) -> (plan: NftPlan, checkDeferred: Bool) {
        let plan = try await reconciler.plan(in: scope, desired: desired, options: options, checked: !deferringCheck)
        return (plan, plan.isUnchecked)
    }

    /// Commits `plan`; a refused commit of an unchecked plan throws what its
    /// dry run would have. See ``NftablesReconciler/applyChecking(_:options:)``.
    public func applyChecking(
        _ plan: NftPlan, scope: NftScope, lastApplied: NftLastApplied, options: NftablesOptions
    ) async throws(ReconcileError) -> ReconcileReport<NftObject, NftLastApplied> {
        try await reconciler.applyChecking(plan, options: options)
    }
}
