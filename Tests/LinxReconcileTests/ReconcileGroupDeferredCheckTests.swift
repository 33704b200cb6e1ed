import LinxKernelSim
import LinxReconcile
import Testing

/// `ReconcileGroup.reconcile()`: a new nf_tables table is not dry-run when
/// it is the only member whose check can be deferred; it is committed
/// first, and its commit is the check.
@Suite("ReconcileGroup: one-call reconcile defers a new table's check to its commit")
struct ReconcileGroupDeferredCheckTests {
    typealias Counting = NftablesColdPassTests.Counting

    static let linx = NftTableRef(.inet, "linx")
    static let other = NftTableRef(.inet, "other")
    static let table = NftTable(
        chains: [NftChain("input", base: NftBaseChain(type: .filter, hook: .input), rules: ["tcp dport {443,80} accept", "meta iifname \"lo\" accept"])],
        sets: [NftSet("ports", type: "inet_service", elements: ["443", "22"])])
    static var bad: NftTable {
        var bad = table
        bad.chains[0].rules.append("tcp dport frob accept")
        return bad
    }

    /// A sysctl member first (applied before the tables in `plan().apply()`
    /// order), then one member per table.
    static func group(_ backend: Counting, tables: [(NftTableRef, NftTable?)])
        -> (ReconcileGroup, ReconcileGroup.Member<SysctlSource>, [ReconcileGroup.Member<NftablesSource>])
    {
        var group = ReconcileGroup()
        let sysctl = group.add(
            "sysctl", SysctlSource(backend: backend.kernel), scope: .current, desired: ["net.ipv4.ip_forward": 1],
            lastApplied: .empty, options: .default)
        let source = NftablesSource(backend: backend)
        let members = tables.enumerated().map { position, table in
            group.add("nftables.\(position)", source, scope: NftScope(table: table.0), desired: table.1, lastApplied: .empty, options: .default)
        }
        return (group, sysctl, members)
    }

    @Test("a new valid table: one commit, no dry run, no scratch check; reports and ownership as plan + apply")
    func newTableCommitsOnce() async throws {
        let backend = Counting(dryRuns: true)
        let (group, sysctl, tables) = Self.group(backend, tables: [(Self.linx, Self.table)])
        let generation = try #require(backend.kernel.nftGeneration())
        let result = try await group.reconcile()
        #expect(backend.dryRunCount.withLock { $0 } == 0 && backend.checks.withLock { $0 } == 0)
        #expect(backend.commits.withLock { $0 } == 1 && backend.kernel.nftGeneration() == generation + 1)
        #expect(result.converged && result[tables[0]].applied.count == 7, "\(result[tables[0]])")
        #expect(result[tables[0]].lastApplied == NftLastApplied(ownsTable: true))
        #expect(result[sysctl].converged && backend.kernel.sysctlValue("net.ipv4.ip_forward") == "1")
        // A fresh Source (a new process) finds the table: it canonicalises
        // once, as any plan of an existing table, and has nothing to do.
        let again = try await Self.group(backend, tables: [(Self.linx, Self.table)]).0.reconcile()
        #expect(again.converged && again[tables[0]].planned.isEmpty, "\(again[tables[0]])")
        #expect(backend.dryRunCount.withLock { $0 } == 0 && backend.commits.withLock { $0 } == 1)
    }

    @Test("a new table the kernel refuses: nothing of any member applied, the refused rule named as at planning")
    func refusedCommitAppliesNothing() async throws {
        let backend = Counting()
        let (group, _, _) = Self.group(backend, tables: [(Self.linx, Self.bad)])
        let generation = backend.kernel.nftGeneration()
        let thrown = await #expect(throws: ReconcileGroupError.self) { _ = try await group.reconcile() }
        // What a plan() of the same group throws (a scratch check in this backend).
        let planned = await #expect(throws: ReconcileGroupError.self) { _ = try await Self.group(backend, tables: [(Self.linx, Self.bad)]).0.plan() }
        #expect(thrown?.member == "nftables.0")
        guard case .invalidDesired(let entry, let reason, let path) = thrown?.error else {
            Issue.record("not invalidDesired: \(String(describing: thrown))")
            return
        }
        #expect(entry.contains("chain input rule 3") && path == ["chains", "input", "rules", 2], "\(entry)")
        #expect(reason.contains("EINVAL"), "\(reason)")
        if case .invalidDesired(_, _, let plannedPath) = planned?.error { #expect(plannedPath == path) }
        #expect(backend.commits.withLock { $0 } == 1)
        #expect(backend.kernel.nftTables().isEmpty && backend.kernel.nftGeneration() == generation)
        #expect(backend.kernel.sysctlValue("net.ipv4.ip_forward") == "0", "the sysctl member was not applied")
    }

    @Test("two new tables keep their checks: the second's refusal leaves the first unapplied")
    func twoNewTablesAreChecked() async throws {
        let valid = Counting(dryRuns: true)
        let (both, _, tables) = Self.group(valid, tables: [(Self.linx, Self.table), (Self.other, Self.table)])
        let result = try await both.reconcile()
        #expect(result.converged)
        // Both dry-run; the second commit carries the generation the first
        // left (the reconciler knows its own commit): no retry.
        #expect(valid.dryRunCount.withLock { $0 } == 2 && valid.commits.withLock { $0 } == 2)
        #expect(result[tables[1]].retries == 0)

        let backend = Counting()
        let (group, _, _) = Self.group(backend, tables: [(Self.linx, Self.table), (Self.other, Self.bad)])
        let thrown = await #expect(throws: ReconcileGroupError.self) { _ = try await group.reconcile() }
        #expect(thrown?.member == "nftables.1")
        #expect(backend.commits.withLock { $0 } == 0 && backend.kernel.nftTables().isEmpty)
        #expect(backend.kernel.sysctlValue("net.ipv4.ip_forward") == "0")
    }

    @Test("an existing table: the one-call pass does what plan + apply does")
    func existingTableUnchanged() async throws {
        var outcomes: [[String]] = []
        for oneCall in [false, true] {
            let backend = Counting(dryRuns: true)
            _ = try await NftablesReconciler(backend: backend).reconcile(in: NftScope(table: Self.linx), desired: Self.table)
            var changed = Self.table
            changed.chains[0].rules[0] = "tcp dport 8080 accept"
            let (group, _, tables) = Self.group(backend, tables: [(Self.linx, changed)])
            let result = oneCall ? try await group.reconcile() : await (try await group.plan()).apply()
            let report = result[tables[0]]
            #expect(report.converged && report.lastApplied == NftLastApplied(ownsTable: true))
            outcomes.append(report.applied.map { "\($0)" } + ["checks \(backend.checks.withLock { $0 }) dry runs \(backend.dryRunCount.withLock { $0 }) commits \(backend.commits.withLock { $0 })"]
                + (backend.kernel.nftTable(Self.linx)?.chains[0].rules.map(\.text) ?? []))
        }
        #expect(outcomes[0] == outcomes[1])
    }

    @Test("a new table whose commit loses the race: checked by canonicalising, re-planned, converges")
    func deferredCommitRace() async throws {
        let backend = Counting()
        backend.kernel.raceNextNftCommits(1)
        let (group, _, tables) = Self.group(backend, tables: [(Self.linx, Self.table)])
        let result = try await group.reconcile()
        #expect(result.converged && result[tables[0]].retries == 1, "\(result[tables[0]])")
        #expect(backend.checks.withLock { $0 } == 1 && backend.commits.withLock { $0 } == 2)
    }
}
