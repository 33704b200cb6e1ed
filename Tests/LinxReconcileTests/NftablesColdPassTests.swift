import LinxKernelSim
import LinxReconcile
import Synchronization
import Testing

/// A pass that finds no table creates it as written, without checking the
/// desired table in a scratch table first, and learns the canonical form
/// from the next listing; only when that listing may hold someone else's
/// write does it canonicalise.
@Suite("nftables reconciler: cold pass without a scratch check")
struct NftablesColdPassTests {
    /// The simulator, counting the scratch-table checks.
    final class Counting: NftablesBackend {
        let kernel = SimKernel(seed: 3)
        let checks = Mutex(0)
        /// Whether it offers a dry run (which here checks nothing: these
        /// tests are about what the reconciler does around it).
        let dryRuns: Bool
        let dryRunCount = Mutex(0)
        /// Commits tried, refused ones included.
        let commits = Mutex(0)

        init(dryRuns: Bool = false) { self.dryRuns = dryRuns }

        func checkTransaction(_ commands: [NftCommand], in scope: NetnsScope) async throws(NftTransactionError) -> Bool {
            guard dryRuns else { return false }
            dryRunCount.withLock { $0 += 1 }
            return true
        }

        func observeTable(_ table: NftTableRef, in scope: NetnsScope) async throws(KernelError) -> NftObservation {
            try await kernel.observeTable(table, in: scope)
        }
        func commit(_ commands: [NftCommand], expecting generation: UInt32, in scope: NetnsScope) async throws(NftTransactionError) -> UInt32 {
            commits.withLock { $0 += 1 }
            return try await kernel.commit(commands, expecting: generation, in: scope)
        }
        func canonicalize(_ table: NftTable, as ref: NftTableRef, in scope: NetnsScope) async throws(NftTransactionError) -> NftTable {
            checks.withLock { $0 += 1 }
            return try await kernel.canonicalize(table, as: ref, in: scope)
        }
        func nftEvents(in scope: NetnsScope) async throws(KernelError) -> AsyncThrowingStream<NftEvent, any Error> {
            try await kernel.nftEvents(in: scope)
        }
    }

    let scope = NftScope(table: NftTableRef(.inet, "linx"))
    let desired = NftTable(
        chains: [NftChain("input", base: NftBaseChain(type: .filter, hook: .input), rules: ["tcp dport {443,80} accept", "meta iifname \"lo\" accept"])],
        sets: [NftSet("ports", type: "inet_service", elements: ["443", "22"])])

    @Test("cold pass: no scratch check; the next pass learns the listing and is a no-op, still without one")
    func coldThenLearned() async throws {
        let backend = Counting()
        let reconciler = NftablesReconciler(backend: backend)
        let cold = try await reconciler.reconcile(in: scope, desired: desired)
        #expect(cold.converged && cold.applied.count == 7, "\(cold.applied)")
        #expect(backend.checks.withLock { $0 } == 0)
        let noop = try await reconciler.reconcile(in: scope, desired: desired)
        #expect(noop.converged && noop.planned.isEmpty, "\(noop.planned)")
        #expect(backend.checks.withLock { $0 } == 0)
        #expect(backend.kernel.nftTable(scope.table)?.chains[0].rules.map(\.text) == ["tcp dport { 80, 443 } accept", "iifname \"lo\" accept"])
    }

    @Test("a write between the cold pass and the next: the listing is not trusted, the desired table is checked, the write healed")
    func foreignWriteInBetween() async throws {
        let backend = Counting()
        let reconciler = NftablesReconciler(backend: backend)
        _ = try await reconciler.reconcile(in: scope, desired: desired)
        try backend.kernel.nftSocket().commit([.addRule(scope.table, chain: "input", rule: "udp dport 53 accept", before: nil)])
        let healed = try await reconciler.reconcile(in: scope, desired: desired)
        #expect(backend.checks.withLock { $0 } == 1)
        #expect(healed.converged && healed.applied.map(\.symbol) == ["-"], "\(healed.applied)")
        #expect(try await reconciler.reconcile(in: scope, desired: desired).planned.isEmpty)
    }

    @Test("an invalid rule on a cold pass is still invalidDesired, naming the rule, with nothing created")
    func invalidCold() async throws {
        let backend = Counting()
        let reconciler = NftablesReconciler(backend: backend)
        var bad = desired
        bad.chains[0].rules.append("tcp dport frob accept")
        let generation = backend.kernel.nftGeneration()
        await #expect {
            _ = try await reconciler.reconcile(in: scope, desired: bad)
        } throws: { error in
            guard case ReconcileError.invalidDesired(let entry, _, let path) = error else { return false }
            return entry.contains("chain input rule 3") && path == ["chains", "input", "rules", 2]
        }
        #expect(backend.kernel.nftTables().isEmpty && backend.kernel.nftGeneration() == generation)
    }

    @Test("a plan of a new table is checked by the dry run, not canonicalised; applied, the next pass learns the listing")
    func planNewTableByDryRun() async throws {
        let backend = Counting(dryRuns: true)
        let reconciler = NftablesReconciler(backend: backend)
        let plan = try await reconciler.plan(in: scope, desired: desired)
        #expect(backend.dryRunCount.withLock { $0 } == 1 && backend.checks.withLock { $0 } == 0)
        #expect(plan.desired == desired, "planned as written")
        let report = await reconciler.apply(plan)
        #expect(report.converged && report.applied.count == 7, "\(report)")
        let noop = try await reconciler.reconcile(in: scope, desired: desired)
        #expect(noop.converged && noop.planned.isEmpty, "\(noop.planned)")
        #expect(backend.checks.withLock { $0 } == 0)
    }

    @Test("a dry-run-checked plan that loses the race is canonicalised before it is re-planned, and converges")
    func dryRunPlanRace() async throws {
        let backend = Counting(dryRuns: true)
        let reconciler = NftablesReconciler(backend: backend)
        let plan = try await reconciler.plan(in: scope, desired: desired)
        // The racer creates our table (marked) with a rule as written differently.
        try backend.kernel.nftSocket().commit([
            .addTable(scope.table, flags: [], comment: "linx"),
            .addChain(scope.table, name: "input", base: NftBaseChain(type: .filter, hook: .input)),
            .addRule(scope.table, chain: "input", rule: "iifname \"lo\" accept", before: nil),
        ])
        let report = await reconciler.apply(plan)
        #expect(report.converged && report.retries == 1, "\(report)")
        #expect(backend.checks.withLock { $0 } == 1)
        // Compared canonically: the racer's `iifname "lo" accept` is kept, one rule added before it, one set made.
        #expect(report.applied.map(\.symbol).sorted() == ["+", "+", "+", "+"], "\(report.applied)")
        #expect(backend.kernel.nftTable(scope.table)?.chains[0].rules.map(\.text) == ["tcp dport { 80, 443 } accept", "iifname \"lo\" accept"])
    }

    @Test("a cold commit that loses the race is retried, counted, and converges")
    func coldRace() async throws {
        let backend = Counting()
        backend.kernel.raceNextNftCommits(1)
        let reconciler = NftablesReconciler(backend: backend)
        let report = try await reconciler.reconcile(in: scope, desired: desired)
        #expect(report.converged && report.retries == 1, "\(report)")
        #expect(backend.checks.withLock { $0 } == 1)
    }
}
