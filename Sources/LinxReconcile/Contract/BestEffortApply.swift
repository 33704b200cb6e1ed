/// The ``ApplyStrategy/bestEffort`` loop for a subsystem whose ops are
/// independent (sysctl keys, cgroup files, the hosts example's entries):
/// every op is tried in order, a refusal is collected and never stops the
/// rest, and each op lands in exactly one of `applied` and `failed`.
///
/// Public so a third-party best-effort Source reports the way the built-in
/// ones do:
///
/// ```swift
/// let (applied, failed) = await BestEffortApply.run(ops) { op throws(KernelError) in
///     switch op {
///     case .create(let file), .update(let file, _): try store.write(file.name, file.contents)
///     case .delete(let file): try store.remove(file.name)
///     }
/// }
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
        await run(ops) { op throws(KernelError) in
            guard let text = value(op) else { return }
            try await write(op.item, text)
        }
    }

    /// Applies `ops` in order with `apply`, for a store where a release is
    /// not a write (removing a file, deleting a key). An op `apply` returns
    /// from is applied; one it throws for is failed, and the rest still run.
    public static func run<Item: Sendable & Hashable>(
        _ ops: [ReconcileOp<Item>],
        apply: (ReconcileOp<Item>) async throws(KernelError) -> Void
    ) async -> (applied: [ReconcileOp<Item>], failed: [FailedOp<Item>]) {
        var applied: [ReconcileOp<Item>] = []
        var failed: [FailedOp<Item>] = []
        for op in ops {
            do {
                try await apply(op)
                applied.append(op)
            } catch {
                failed.append(FailedOp(op, error: error))
            }
        }
        return (applied, failed)
    }
}
