import LinxKernelSim
import LinxReconcile
import Synchronization
import Testing

/// Several tables in one namespace through one reconciler: the generation
/// is namespace-wide, and a table's plan made before our own commit of
/// another table carries the generation that commit left, so only another
/// writer's commit makes the kernel refuse it (and counts as a retry).
@Suite("nftables reconciler: several tables, one namespace-wide generation")
struct NftablesOwnCommitsTests {
    /// The simulator, counting commits (refused ones too) and canonicalisations;
    /// before commit number N (1-based) listed in `intrusions`, another
    /// process commits a table of its own first, as `nft add table` would.
    final class Intruding: NftablesBackend {
        let kernel = SimKernel(seed: 11)
        let commits = Mutex(0)
        let checks = Mutex(0)
        let intrusions: Set<Int>
        private let intruder: SimNftSocket

        init(intrusions: Set<Int> = []) {
            self.intrusions = intrusions
            intruder = kernel.nftSocket()
        }

        func observeTable(_ table: NftTableRef, in scope: NetnsScope) async throws(KernelError) -> NftObservation {
            try await kernel.observeTable(table, in: scope)
        }
        func commit(_ commands: [NftCommand], expecting generation: UInt32, in scope: NetnsScope) async throws(NftTransactionError) -> UInt32 {
            let number = commits.withLock { $0 += 1; return $0 }
            if intrusions.contains(number) {
                try intruder.commit([.addTable(NftTableRef(.ip, "intruder\(number)"), flags: [], comment: nil)], in: scope)
            }
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

    static let refs = ["a", "b", "c"].map { NftTableRef(.inet, $0) }
    static func table(_ port: Int) -> NftTable {
        NftTable(
            chains: [NftChain("input", base: NftBaseChain(type: .filter, hook: .input), rules: ["tcp dport \(port) accept", "meta iifname \"lo\" accept"])],
            sets: [NftSet("ports", type: "inet_service", elements: ["443", "22"])])
    }

    /// One member per table, all through one Source (as HostReconciler builds it).
    static func group(_ backend: Intruding, port: Int = 22) -> (ReconcileGroup, [ReconcileGroup.Member<NftablesSource>]) {
        var group = ReconcileGroup()
        let source = NftablesSource(backend: backend)
        let members = refs.enumerated().map { position, ref in
            group.add("nftables.\(position)", source, scope: NftScope(table: ref), desired: table(port), lastApplied: .empty, options: .default)
        }
        return (group, members)
    }

    static func retries(_ result: ReconcileGroup.Result, _ members: [ReconcileGroup.Member<NftablesSource>]) -> [Int] {
        members.map { result[$0].retries }
    }

    @Test("three new tables, no other writer: zero retries, one commit each (plan + apply and the one-call pass)")
    func threeNewTables() async throws {
        for oneCall in [false, true] {
            let backend = Intruding()
            let start = try #require(backend.kernel.nftGeneration())
            let (group, members) = Self.group(backend)
            let result = oneCall ? try await group.reconcile() : await (try await group.plan()).apply()
            #expect(result.converged)
            #expect(Self.retries(result, members) == [0, 0, 0], "oneCall \(oneCall)")
            #expect(backend.commits.withLock { $0 } == 3 && backend.kernel.nftGeneration() == start + 3)
        }
    }

    @Test("three existing tables changed from a fresh Source: zero retries")
    func threeExistingTables() async throws {
        let backend = Intruding()
        _ = await (try await Self.group(backend).0.plan()).apply()
        let before = backend.commits.withLock { $0 }
        let (group, members) = Self.group(backend, port: 8080)
        let result = await (try await group.plan()).apply()
        #expect(result.converged && Self.retries(result, members) == [0, 0, 0])
        #expect(backend.commits.withLock { $0 } == before + 3)
        for ref in Self.refs { #expect(backend.kernel.nftTable(ref)?.chains[0].rules.first?.text == "tcp dport 8080 accept") }
    }

    @Test("another writer before the last table's commit: exactly one retry, for that table")
    func writerBeforeTheLast() async throws {
        let backend = Intruding(intrusions: [3])
        let (group, members) = Self.group(backend)
        let result = await (try await group.plan()).apply()
        #expect(result.converged && Self.retries(result, members) == [0, 0, 1])
        #expect(backend.commits.withLock { $0 } == 4)
        #expect(backend.kernel.nftTables().contains(NftTableRef(.ip, "intruder3")))
    }

    /// Both later plans were made before the intruder committed: it may have
    /// written in either table, so both must look again.
    @Test("another writer between the first and second commits: the second and third tables retry once each")
    func writerAfterTheFirst() async throws {
        let backend = Intruding(intrusions: [2])
        let (group, members) = Self.group(backend)
        let result = await (try await group.plan()).apply()
        #expect(result.converged && Self.retries(result, members) == [0, 1, 1])
        #expect(backend.commits.withLock { $0 } == 5)
    }

    @Test("three loops' passes at once through one Source: zero retries")
    func concurrentPasses() async throws {
        for _ in 0..<10 {
            let backend = Intruding()
            let source = NftablesSource(backend: backend)
            let retries = await withTaskGroup(of: Int.self) { tasks in
                for ref in Self.refs {
                    tasks.addTask {
                        (try? await source.reconcile(scope: NftScope(table: ref), desired: Self.table(22), lastApplied: .empty, options: .default))?.retries ?? -1
                    }
                }
                return await tasks.reduce(into: []) { $0.append($1) }
            }
            #expect(retries == [0, 0, 0] && backend.commits.withLock { $0 } == 3)
        }
    }

    @Test("a table created as written is learned from its listing after our commits of the other tables: no scratch check")
    func learnAcrossOwnCommits() async throws {
        let backend = Intruding()
        let source = NftablesSource(backend: backend)
        for ref in Self.refs {
            let report = try await source.reconcile(scope: NftScope(table: ref), desired: Self.table(22), lastApplied: .empty, options: .default)
            #expect(report.converged && report.retries == 0)
        }
        let again = try await source.reconcile(scope: NftScope(table: Self.refs[0]), desired: Self.table(22), lastApplied: .empty, options: .default)
        #expect(again.converged && again.planned.isEmpty)
        #expect(backend.checks.withLock { $0 } == 0, "learned, not canonicalised")

        // Another writer's commit since: the listing may hold its write.
        try backend.kernel.nftSocket().commit([.addTable(NftTableRef(.ip, "other"), flags: [], comment: nil)])
        _ = try await source.reconcile(scope: NftScope(table: Self.refs[1]), desired: Self.table(22), lastApplied: .empty, options: .default)
        #expect(backend.checks.withLock { $0 } == 1)
    }

    @Test("two Sources know nothing of each other's commits: the second's counts as another writer")
    func separateSources() async throws {
        let backend = Intruding()
        let first = NftablesSource(backend: backend)
        let second = NftablesSource(backend: backend)
        let plans = [
            try await first.plan(scope: NftScope(table: Self.refs[0]), desired: Self.table(22), lastApplied: .empty, options: .default),
            try await second.plan(scope: NftScope(table: Self.refs[1]), desired: Self.table(22), lastApplied: .empty, options: .default),
        ]
        #expect(await first.apply(plans[0], scope: plans[0].scope, lastApplied: .empty, options: .default).retries == 0)
        #expect(await second.apply(plans[1], scope: plans[1].scope, lastApplied: .empty, options: .default).retries == 1)
    }
}
