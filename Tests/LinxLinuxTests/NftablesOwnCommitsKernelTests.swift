import LinxLinux
import LinxReconcile
import LinxTestSupport
import Synchronization
import Testing

/// Several tables in one namespace on the real kernel (throwaway namespace):
/// the generation is namespace-wide, and one reconciler's own commits
/// (and its scratch-table checks) are not taken for another writer's.
/// Needs root and nft; skipped otherwise, saying why.
@Suite("nftables: several tables, one generation, on the real kernel", .enabled(if: RealKernel.available && NftKernel.hasNft, "needs root, iproute2 and nft"))
struct NftablesOwnCommitsKernelTests {
    /// The real kernel; before commit number N (1-based) in `intrusions`,
    /// another process (`nft`) commits a table of its own first.
    final class Intruding: NftablesBackend {
        let kernel = LinuxKernel()
        let commits = Mutex(0)
        let intrusions: Set<Int>
        let intrude: @Sendable (Int) -> Void

        init(intrusions: Set<Int> = [], intrude: @escaping @Sendable (Int) -> Void = { _ in }) {
            self.intrusions = intrusions
            self.intrude = intrude
        }

        func observeTable(_ table: NftTableRef, in scope: NetnsScope) async throws(KernelError) -> NftObservation {
            try await kernel.observeTable(table, in: scope)
        }
        func commit(_ commands: [NftCommand], expecting generation: UInt32, in scope: NetnsScope) async throws(NftTransactionError) -> UInt32 {
            let number = commits.withLock { $0 += 1; return $0 }
            if intrusions.contains(number) { intrude(number) }
            return try await kernel.commit(commands, expecting: generation, in: scope)
        }
        func canonicalize(_ table: NftTable, as ref: NftTableRef, in scope: NetnsScope) async throws(NftTransactionError) -> NftTable {
            try await kernel.canonicalize(table, as: ref, in: scope)
        }
        func canonicalizeReportingCommits(_ table: NftTable, as ref: NftTableRef, in scope: NetnsScope)
            async throws(NftTransactionError) -> (table: NftTable, ownCommits: [UInt32])
        {
            try await kernel.canonicalizeReportingCommits(table, as: ref, in: scope)
        }
        func checkTransaction(_ commands: [NftCommand], in scope: NetnsScope) async throws(NftTransactionError) -> Bool {
            try await kernel.checkTransaction(commands, in: scope)
        }
        func nftEvents(in scope: NetnsScope) async throws(KernelError) -> AsyncThrowingStream<NftEvent, any Error> {
            try await kernel.nftEvents(in: scope)
        }
    }

    static let refs = ["a", "b", "c"].map { NftTableRef(.inet, $0) }
    static func table(_ port: Int) -> NftTable {
        NftTable(
            chains: [NftChain("input", base: NftBaseChain(type: .filter, hook: .input), rules: ["tcp dport \(port) accept", "iifname \"lo\" accept"])],
            sets: [NftSet("ports", type: "inet_service", elements: ["443", "22"])])
    }

    static func group(_ backend: Intruding, in netns: NetnsScope, port: Int) -> (ReconcileGroup, [ReconcileGroup.Member<NftablesSource>]) {
        var group = ReconcileGroup()
        let source = NftablesSource(backend: backend)
        let members = refs.enumerated().map { position, ref in
            group.add("nftables.\(position)", source, scope: NftScope(netns, table: ref), desired: table(port), lastApplied: .empty, options: .default)
        }
        return (group, members)
    }

    static func generation(_ backend: Intruding, _ netns: NetnsScope) async throws -> UInt32 {
        try await backend.kernel.observeTable(refs[0], in: netns).generation
    }

    @Test("three new tables (dry-run plans), then three changed from a fresh process (scratch checks): zero retries, no wasted commit")
    func noOtherWriter() async throws {
        try await ThrowawayNamespace.with { ns in
            for oneCall in [false, true] {
                let backend = Intruding()
                let start = try await Self.generation(backend, ns.scope)
                let (group, members) = Self.group(backend, in: ns.scope, port: 22)
                let result = oneCall ? try await group.reconcile() : await (try await group.plan()).apply()
                #expect(result.converged && members.map { result[$0].retries } == [0, 0, 0], "oneCall \(oneCall)")
                #expect(backend.commits.withLock { $0 } == 3)
                // Dry runs move no generation: three commits, three moves.
                #expect(try await Self.generation(backend, ns.scope) == start &+ 3)

                // A fresh reconciler (a new `linx apply`) changes all three:
                // each plan canonicalises in a scratch table (two commits of
                // its own each), and none of that counts as another writer.
                let fresh = Intruding()
                let changed = Self.group(fresh, in: ns.scope, port: 8080)
                let again = oneCall ? try await changed.0.reconcile() : await (try await changed.0.plan()).apply()
                #expect(again.converged && changed.1.map { again[$0].retries } == [0, 0, 0], "oneCall \(oneCall)")
                #expect(fresh.commits.withLock { $0 } == 3)
                #expect(try await Self.generation(fresh, ns.scope) == start &+ 3 &+ 3 * 2 &+ 3)
                for ref in Self.refs {
                    #expect(try ns.exec("nft", "list", "table", "inet", ref.name).contains("tcp dport 8080 accept"))
                    _ = try ns.exec("nft", "delete", "table", "inet", ref.name)
                }
            }
        }
    }

    @Test("`nft add table` by another process before the last table's commit: exactly one retry, for that table")
    func otherWriterBeforeTheLast() async throws {
        try await ThrowawayNamespace.with { ns in
            let backend = Intruding(intrusions: [3]) { number in _ = try? ns.exec("nft", "add", "table", "ip", "theirs\(number)") }
            let (group, members) = Self.group(backend, in: ns.scope, port: 22)
            let result = await (try await group.plan()).apply()
            #expect(result.converged && members.map { result[$0].retries } == [0, 0, 1])
            #expect(backend.commits.withLock { $0 } == 4)
            #expect(try ns.exec("nft", "list", "tables").contains("table ip theirs3"))
        }
    }
}
