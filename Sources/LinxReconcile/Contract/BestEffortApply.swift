/// The ``ApplyStrategy/bestEffort`` loop for a subsystem whose ops are
/// independent (sysctl keys, cgroup files, the hosts example's entries):
/// every op is tried in order, a refusal is collected and never stops the
/// rest, and each op lands in exactly one of `applied` and `failed`.
///
/// Public so a third-party best-effort Source reports the way the built-in
/// ones do:
///
/// ```swift
/// let (applied, failed) = await BestEffortApply.run(ops, value: { op in
///     op.isDelete ? nil : op.item.contents            // nil: nothing to write
/// }, write: { item, text throws(KernelError) in
///     try store.write(item.name, text)
/// })
/// ```
///
/// Ownership stays the caller's: an item whose write failed keeps the
/// ownership it had before the pass (a failed create is not owned, a failed
/// update or release still is).
public enum BestEffortApply {
    /// Applies `ops` in order. `value` says what an op writes, or nil when it
    /// needs no write (a release that only drops ownership, or whose value is
    /// already in place): such an op counts as applied. `write` performs one
    /// write; a ``KernelError`` it throws fails that op alone.
    public static func run<Item: Sendable & Hashable>(
        _ ops: [ReconcileOp<Item>],
        value: (ReconcileOp<Item>) -> String?,
        write: (Item, String) async throws(KernelError) -> Void
    ) async -> (applied: [ReconcileOp<Item>], failed: [FailedOp<Item>]) {
        var applied: [ReconcileOp<Item>] = []
        var failed: [FailedOp<Item>] = []
        for op in ops {
            guard let text = value(op) else {
                applied.append(op)
                continue
            }
            do {
                try await write(op.item, text)
                applied.append(op)
            } catch {
                failed.append(FailedOp(op, error: error))
            }
        }
        return (applied, failed)
    }
}
