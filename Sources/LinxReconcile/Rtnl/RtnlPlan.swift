/// What one rtnl pass would do, computed from one observation: the ops in
/// apply order, plus what the pass needs to record ownership afterwards.
///
/// Obtained from ``RtnlReconciler/plan(in:desired:lastApplied:options:)``
/// (for `linx plan`, or a custom apply strategy); ``RtnlReconciler/reconcile(in:desired:lastApplied:options:)``
/// applies exactly this.
public struct RtnlPlan: Sendable {
    /// The ops in apply order: address creates, route creates and updates,
    /// route deletes, address deletes. Address creates come first so that
    /// gateways are reachable; route deletes come before address deletes so
    /// the kernel's own flush never races ours. Address deletes the
    /// reconciler refuses (``refused``) come after every other op.
    public var ops: [ReconcileOp<RtnlObject>]
    /// The observation the plan was made from. From
    /// ``RtnlReconciler/plan(in:desired:lastApplied:options:)`` its routes
    /// carry no interface names (the ops' routes do; ``RtnlReconciler/observe(in:options:)``
    /// names them all): naming every route would copy them all.
    public var observed: RtnlObserved
    /// The desired state, resolved against ``observed``'s links.
    public var desired: RtnlResolvedState
    /// The addresses owned going into the pass, by index.
    public var ownedAddresses: Set<InterfaceAddress.Key>
    /// Ops the reconciler will not send, with the reason as the error the
    /// report shows: deleting an IPv4 address that shares its subnet with a
    /// foreign address (see ``RtnlReconciler``). The apply stops there like
    /// at a kernel refusal.
    public var refused: [ReconcileOp<RtnlObject>: KernelError] = [:]
    /// For a plan without ops, the ownership record its pass reports,
    /// computed once (a cached plan is reused pass after pass).
    var settled: RtnlLastApplied?
    /// The ownership record the plan was made with, when ``ownedAddresses``
    /// is exactly its image (every recorded address resolved to a link, none
    /// the kernel's, no tag-owned addresses besides): a pass that adds and
    /// removes no address and finds them all present then reports it as is.
    var record: RtnlLastApplied?

    /// The kinds this plan manages: it creates and deletes nothing of another.
    public var managed: RtnlKinds { desired.managed }

    /// True when the namespace already is in the desired state.
    public var isEmpty: Bool { ops.isEmpty }
}
