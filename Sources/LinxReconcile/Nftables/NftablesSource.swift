/// The ``ReconcileSource`` adapter over ``NftablesReconciler``. The scope is
/// one table in one network namespace; the desired state is that table's
/// content, or nil for "this table should not exist" (a table of ours is
/// then deleted, anyone else's left alone).
///
/// `subscribe` starts an nf_tables monitor (NFNLGRP_NFTABLES): every commit
/// in the namespace is a ``ReconcileHint/changed`` hint, lost events are
/// ``ReconcileHint/resyncNeeded``.
public struct NftablesSource: ReconcileSource {
    /// A table in a network namespace.
    public typealias Scope = NftScope
    /// The table's content; nil wants it absent.
    public typealias Desired = NftTable?
    /// Whether the last pass left a table of ours.
    public typealias LastApplied = NftLastApplied
    /// The table and the generation it was observed at.
    public typealias Observed = NftObservation
    /// Marker, lifetime, retries.
    public typealias Options = NftablesOptions
    /// A table, chain, rule, set or element.
    public typealias Item = NftObject

    /// The reconciler this Source delegates to.
    public let reconciler: NftablesReconciler

    /// A Source acting on `backend`. Keep one backend (one socket) for the
    /// life of the agent when the table is ``NftTableLifetime/owned``, and
    /// one Source for every table of a namespace: its reconciler knows its
    /// own commits, so one table's commit does not count as another
    /// writer's for the next table's pass (see ``NftablesReconciler``).
    public init(backend: any NftablesBackend) {
        reconciler = NftablesReconciler(backend: backend)
    }

    /// One pass; see ``NftablesReconciler/reconcile(in:desired:lastApplied:options:)``.
    public func reconcile(
        scope: NftScope, desired: NftTable?, lastApplied: NftLastApplied, options: NftablesOptions
    ) async throws(ReconcileError) -> ReconcileReport<NftObject, NftLastApplied> {
        try await reconciler.reconcile(in: scope, desired: desired, lastApplied: lastApplied, options: options)
    }

    /// See ``NftablesReconciler/observe(in:)``.
    public func observe(scope: NftScope, options: NftablesOptions) async throws(ReconcileError) -> NftObservation {
        try await reconciler.observe(in: scope)
    }

    /// Subscribes to the namespace's nf_tables changes as hints, following
    /// the namespace's name as ``RtnlSource`` does when the backend is also
    /// an ``RtnlBackend`` that can tell (``RtnlBackend/namespaceIdentities(of:)``:
    /// ``ReconcileHint/scopeLost(_:)``, ``ReconcileHint/scopeReplaced``).
    public func subscribe(scope: NftScope) async throws(ReconcileError) -> HintSubscription {
        let backend = reconciler.backend
        let netns = scope.netns
        let identities = await (backend as? any RtnlBackend)?.namespaceIdentities(of: netns) ?? AsyncStream { $0.finish() }
        return .hints(
            try await NamespaceHintStream<NftEvent>.subscribe(
                scope: netns, identities: identities, resource: "nftables events",
                isOverflow: { $0 == .overflow }, open: { () async throws(KernelError) in try await backend.nftEvents(in: netns) }))
    }
}
