/// The ``ApplyStrategy/bestEffort`` loop shared by the subsystems whose ops
/// are independent (sysctl keys, cgroup files): every op is tried, a refusal
/// is collected and never stops the rest.
enum BestEffortApply {
    /// Applies `ops` in order. `value` says what an op writes, or nil when it
    /// needs no write (a release that only drops ownership, or whose value is
    /// already in place): such an op counts as applied.
    static func run<Item: Sendable & Hashable>(
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
