/// What one nf_tables pass would do, computed from one observation: the ops
/// and the transaction that carries them out, planned against the
/// observation's generation.
public struct NftPlan: Sendable {
    /// The scope the plan was made for.
    public var scope: NftScope
    /// The observation (generation and table) the plan was made from.
    public var observation: NftObservation
    /// The desired table in the kernel's canonical form (nil: wanted absent).
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

    /// True when the table already is as desired.
    public var isEmpty: Bool { ops.isEmpty }

    /// True when the table exists after the plan is carried out and is ours.
    var leavesOwnedTable: Bool {
        if refusal != nil { return false }
        return desired != nil
    }
}
