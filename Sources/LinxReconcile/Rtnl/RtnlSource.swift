/// The ``ReconcileSource`` adapter over ``RtnlReconciler``, for the loop and
/// the conformance suite. It only delegates; the scope is a network namespace.
///
/// `subscribe` starts an rtnetlink monitor: every change is a ``ReconcileHint/changed``
/// hint, a lost-events overflow (ENOBUFS) is ``ReconcileHint/resyncNeeded``,
/// the namespace's name is followed across deletion and re-creation
/// (``ReconcileHint/scopeLost(_:)``, ``ReconcileHint/scopeReplaced``), and
/// the hint stream finishes with the monitor's error when it dies.
public struct RtnlSource: ReconcileSource {
    /// The network namespace a pass acts in.
    public typealias Scope = NetnsScope
    /// Addresses and routes, by interface name.
    public typealias Desired = RtnlDesiredState
    /// The owned addresses.
    public typealias LastApplied = RtnlLastApplied
    /// One dump of links, addresses and owned routes.
    public typealias Observed = RtnlObserved
    /// Ownership tags.
    public typealias Options = RtnlOptions
    /// An address or a route.
    public typealias Item = RtnlObject

    /// The reconciler this Source delegates to.
    public let reconciler: RtnlReconciler

    /// A Source acting on `backend`.
    public init(backend: any RtnlBackend) {
        reconciler = RtnlReconciler(backend: backend)
    }

    /// One pass; see ``RtnlReconciler/reconcile(in:desired:lastApplied:options:)``.
    public func reconcile(
        scope: NetnsScope, desired: RtnlDesiredState, lastApplied: RtnlLastApplied, options: RtnlOptions
    ) async throws(ReconcileError) -> ReconcileReport<RtnlObject, RtnlLastApplied> {
        try await reconciler.reconcile(in: scope, desired: desired, lastApplied: lastApplied, options: options)
    }

    /// See ``RtnlReconciler/observe(in:options:)``.
    public func observe(scope: NetnsScope, options: RtnlOptions) async throws(ReconcileError) -> RtnlObserved {
        try await reconciler.observe(in: scope, options: options)
    }

    /// Subscribes to the namespace's rtnetlink changes as hints, following
    /// the scope's name (see ``RtnlBackend/namespaceIdentities(of:)``): when
    /// the namespace is deleted or the name re-created, the stream sends
    /// ``ReconcileHint/scopeLost(_:)`` and, once a namespace of that name
    /// exists again and is monitored, ``ReconcileHint/scopeReplaced``.
    /// Cancelling the iteration of the hint stream closes the monitor.
    ///
    /// - Throws: ``ReconcileError/scopeUnavailable(scope:reason:)`` when the
    ///   namespace does not exist, ``ReconcileError/observeFailed(resource:error:)``
    ///   when the monitor cannot start.
    public func subscribe(scope: NetnsScope) async throws(ReconcileError) -> HintSubscription {
        let backend = reconciler.backend
        return .hints(
            try await NamespaceHintStream<RtnlEvent>.subscribe(
                scope: scope, identities: await backend.namespaceIdentities(of: scope), resource: "rtnl events",
                isOverflow: { $0 == .overflow }, open: { () async throws(KernelError) in try await backend.events(in: scope) }))
    }
}
