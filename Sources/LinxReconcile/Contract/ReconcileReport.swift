/// How a subsystem applies the ops of one pass. Visible in every report so
/// that a caller (and the conformance suite) can check the report is honest.
public enum ApplyStrategy: String, Sendable, Hashable, Codable {
    /// Ordered ops, one at a time: stop at the first failure (`failed`
    /// holds it); the rest are `pending`, never attempted.
    case failFast
    /// Ordered ops in dependency stages (rtnl): fail-fast at the dependency
    /// points. No op of a stage depends on another of it, so a stage is sent
    /// as one pipelined batch and all its ops are attempted; the stage with
    /// the first failure is the last one run. `failed` holds every failure of
    /// it, `applied` everything the kernel carried out, and the later stages
    /// are `pending`, never attempted. (With pipelining, a strict "stop at the
    /// first failure" cannot be honest: the kernel has already run what was
    /// sent behind the refused op.)
    case staged
    /// Independent ops (sysctl, cgroup): try every op; `pending` stays empty.
    case bestEffort
    /// One transaction (nf_tables): the kernel carries out every op or none.
    /// Either every op is `applied`, or none is: the op the kernel refused is
    /// the one `failed` entry and every other op is `pending`.
    case allOrNothing
}

/// An op the kernel refused during a pass, with the kernel's answer.
public struct FailedOp<Item: Sendable & Hashable>: Sendable, Hashable {
    /// The op the kernel refused.
    public var op: ReconcileOp<Item>
    /// What the kernel answered.
    public var error: KernelError

    /// The refusal of `op` with `error`.
    public init(_ op: ReconcileOp<Item>, error: KernelError) {
        self.op = op
        self.error = error
    }
}

/// The outcome of one completed (possibly partial) reconcile pass.
///
/// Per-op kernel failures live here rather than being thrown: a partial apply
/// is a normal transient state that the next pass corrects. The planned ops
/// are exactly `applied + failed + pending`, and the pass converged exactly
/// when nothing failed and nothing is pending.
public struct ReconcileReport<Item: Sendable & Hashable, LastApplied: Sendable>: Sendable {
    /// Ops the kernel accepted (or that were already in the wanted state).
    public var applied: [ReconcileOp<Item>]
    /// Ops the kernel refused, each with its error.
    public var failed: [FailedOp<Item>]
    /// Ops never attempted (the kernel never saw them) because a fail-fast
    /// pass stopped early.
    public var pending: [ReconcileOp<Item>]
    /// Ownership state to thread into the next pass.
    public var lastApplied: LastApplied
    /// How the ops were applied.
    public var strategy: ApplyStrategy
    /// Times the pass re-observed and re-planned because another writer
    /// changed the scope between its observation and its commit (nf_tables:
    /// the kernel refused the transaction with ERESTART). 0 elsewhere.
    public var retries: Int

    /// A report; Sources build one per pass, so that `planned` is exactly what they planned.
    public init(
        applied: [ReconcileOp<Item>] = [],
        failed: [FailedOp<Item>] = [],
        pending: [ReconcileOp<Item>] = [],
        lastApplied: LastApplied,
        strategy: ApplyStrategy,
        retries: Int = 0
    ) {
        self.applied = applied
        self.failed = failed
        self.pending = pending
        self.lastApplied = lastApplied
        self.strategy = strategy
        self.retries = retries
    }

    /// True when the pass left nothing undone.
    public var converged: Bool { failed.isEmpty && pending.isEmpty }

    /// Every op the pass planned, in plan order per bucket.
    public var planned: [ReconcileOp<Item>] { applied + failed.map(\.op) + pending }
}

extension ReconcileReport: Equatable where LastApplied: Equatable {}
