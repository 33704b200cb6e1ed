/// What one nf_tables pass would do, computed from one observation: the ops
/// and the transaction that carries them out, planned against the
/// observation's generation.
public struct NftPlan: Sendable {
    /// The scope the plan was made for.
    public var scope: NftScope
    /// The observation (generation and table) the plan was made from.
    public var observation: NftObservation
    /// The desired table (nil: wanted absent), in the kernel's canonical
    /// form, or as written when the plan creates the table from nothing
    /// (nothing to compare it with; the kernel's listing after the commit
    /// is its canonical form).
    public var desired: NftTable?
    /// The ops in transaction order.
    public var ops: [ReconcileOp<NftObject>]
    /// The transaction.
    public var commands: [NftCommand]
    /// For each command, the index in ``ops`` of the op it carries out (an
    /// elements command carries several: the first is named).
    public var opOfCommand: [Int]
    /// Set when the pass must not commit: the table exists without our
    /// marker (it is not ours). The op is refused with this error.
    public var refusal: KernelError?

    /// False when ``desired`` is as written: a re-plan against a table
    /// that exists must canonicalise it first.
    var desiredIsCanonical = true

    /// True when the plan creates the table as written and nothing checked
    /// it (``NftablesReconciler/plan(in:desired:options:checked:)`` with
    /// `checked: false`): its commit is the check, so apply it with
    /// ``NftablesReconciler/applyChecking(_:options:)``.
    public internal(set) var isUnchecked = false

    /// True when the table already is as desired.
    public var isEmpty: Bool { ops.isEmpty }

    /// True when the table exists after the plan is carried out and is ours.
    var leavesOwnedTable: Bool {
        if refusal != nil { return false }
        return desired != nil
    }
}
