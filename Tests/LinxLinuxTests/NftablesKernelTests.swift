import LinxKernelSim
import LinxLinux
import LinxReconcile
import LinxTestSupport
import Synchronization
import SystemPackage
import Testing

/// The nftables reconciler on the real kernel, each test in a throwaway
/// namespace (nf_tables is per namespace: the host's firewall is never
/// read or written). Needs root and nft; skipped otherwise.
@Suite("nftables reconciler on the real kernel", .enabled(if: RealKernel.available && NftKernel.hasNft, "needs root, iproute2 and nft"))
struct NftablesKernelTests {
    let table = NftTableRef(.inet, "linx")
    let desired = NftTable(
        chains: [
            NftChain("input", base: NftBaseChain(type: .filter, hook: .input, priority: 0, policy: .drop), rules: [
                "ct state related,established accept",
                "iif lo accept",
                "tcp dport {443,80, 22} counter accept",
                "ip saddr @blocked drop",
                "jump audit",
            ]),
            NftChain("audit", rules: ["log prefix \"audit \""]),
        ],
        sets: [NftSet("blocked", type: "ipv4_addr", flags: ["interval"], elements: ["10.9.0.0/16", "192.0.2.7"])])

    @Test("apply a table; a no-op second pass; a foreign table and a foreign rule elsewhere survive; a hand-added rule is healed")
    func applyHealAndForeign() async throws {
        try await ThrowawayNamespace.with { ns in
            let kernel = LinuxKernel()
            let scope = NftScope(ns.scope, table: table)
            try ns.exec("nft", "add table ip docker; add chain ip docker c; add rule ip docker c tcp dport 8080 accept")
            let reconciler = NftablesReconciler(backend: kernel)
            let first = try await reconciler.reconcile(in: scope, desired: desired)
            #expect(first.converged && first.strategy == .allOrNothing, "\(first.failed)")
            let listed = try ns.exec("nft", "-s", "list", "table", "inet", "linx")
            #expect(listed.contains("tcp dport { 22, 80, 443 } counter accept"))
            #expect(listed.contains("comment \"linx\""))
            let second = try await reconciler.reconcile(in: scope, desired: desired)
            #expect(second.converged && second.planned.isEmpty, "\(second.planned)")

            try ns.exec("nft", "add rule inet linx input udp dport 53 accept")
            let healed = try await reconciler.reconcile(in: scope, desired: desired)
            #expect(healed.converged && healed.applied.count == 1 && healed.applied[0].symbol == "-", "\(healed.planned)")
            #expect(!(try ns.exec("nft", "list", "table", "inet", "linx")).contains("udp dport 53"))
            let docker = try ns.exec("nft", "list", "table", "ip", "docker")
            #expect(docker.contains("tcp dport 8080 accept"))

            let released = try await reconciler.reconcile(in: scope, desired: nil)
            #expect(released.converged && released.applied.count == 1)
            let tables = try ns.exec("nft", "list", "tables")
            #expect(!tables.contains("inet linx") && tables.contains("ip docker"))
        }
    }

    @Test("a new chain whose rule uses a set the table already has: applied (nft resolves it only outside a chain block)")
    func newChainUsingExistingSet() async throws {
        try await ThrowawayNamespace.with { ns in
            let reconciler = NftablesReconciler(backend: LinuxKernel())
            let scope = NftScope(ns.scope, table: table)
            #expect(try await reconciler.reconcile(in: scope, desired: desired).converged)
            var more = desired
            more.chains.append(NftChain("extra", rules: ["ip saddr @blocked drop", "counter"]))
            let report = try await reconciler.reconcile(in: scope, desired: more)
            #expect(report.converged, "\(report.failed)")
            #expect(try ns.exec("nft", "list", "chain", "inet", "linx", "extra").contains("ip saddr @blocked drop"))
        }
    }

    @Test("a table of our name without the marker is refused and untouched")
    func unmarkedTableRefused() async throws {
        try await ThrowawayNamespace.with { ns in
            try ns.exec("nft", "add table inet linx; add chain inet linx mine; add rule inet linx mine accept")
            let report = try await NftablesReconciler(backend: LinuxKernel()).reconcile(in: NftScope(ns.scope, table: table), desired: desired)
            #expect(report.failed.first?.error.errno == .fileExists && report.applied.isEmpty)
            let listed = try ns.exec("nft", "list", "table", "inet", "linx")
            #expect(listed.contains("chain mine") && !listed.contains("chain input"))
        }
    }

    @Test("an invalid rule is rejected naming chain and rule, with nothing applied")
    func invalidRule() async throws {
        try await ThrowawayNamespace.with { ns in
            let reconciler = NftablesReconciler(backend: LinuxKernel())
            var bad = desired
            bad.chains[0].rules.insert("tcp dport frob accept", at: 1)
            await #expect {
                _ = try await reconciler.reconcile(in: NftScope(ns.scope, table: table), desired: bad)
            } throws: { error in
                guard case ReconcileError.invalidDesired(let entry, let reason, _) = error else { return false }
                return entry.contains("chain input rule 2") && reason.contains("Could not resolve service")
            }
            var jump = desired
            jump.chains[1].rules = ["jump nowhere"]
            await #expect {
                _ = try await reconciler.reconcile(in: NftScope(ns.scope, table: table), desired: jump)
            } throws: { error in
                guard case ReconcileError.invalidDesired(let entry, let reason, _) = error else { return false }
                return entry.contains("chain audit rule 1") && reason.contains("ENOENT")
            }
            let tables = try ns.exec("nft", "list", "tables")
            #expect(tables.isEmpty, "nothing applied, the check table is gone")
        }
    }

    @Test("a concurrent writer during a pass causes a retry, not a lost write")
    func concurrentWriterRetries() async throws {
        try await ThrowawayNamespace.with { ns in
            let kernel = LinuxKernel()
            let scope = NftScope(ns.scope, table: table)
            _ = try await NftablesReconciler(backend: kernel).reconcile(in: scope, desired: desired)
            // Between the pass's observation and its commit, another process
            // adds a rule to a table of its own and one to ours.
            let racing = RacingBackend(kernel: kernel) {
                _ = try? ns.exec("nft", "add table ip theirs; add chain ip theirs c; add rule ip theirs c accept; add rule inet linx audit drop")
            }
            var changed = desired
            changed.sets[0].elements.append("198.51.100.1")
            let report = try await NftablesReconciler(backend: racing).reconcile(in: scope, desired: changed)
            #expect(report.converged && report.retries == 1, "\(report.failed)")
            #expect(try ns.exec("nft", "list", "table", "ip", "theirs").contains("accept"))
            let ours = try ns.exec("nft", "list", "table", "inet", "linx")
            #expect(ours.contains("198.51.100.1") && !ours.contains("\t\tdrop"))
        }
    }

    @Test("with the owner flag another process cannot delete the table; it goes when the agent's socket closes")
    func ownerFlag() async throws {
        try await ThrowawayNamespace.with { ns in
            var kernel: LinuxKernel? = LinuxKernel(configuration: .init(idleTimeout: .milliseconds(50)))
            let scope = NftScope(ns.scope, table: table)
            let report = try await NftablesReconciler(backend: kernel!).reconcile(in: scope, desired: desired, options: NftablesOptions(lifetime: .owned))
            #expect(report.converged, "\(report.failed)")
            let delete = Command.run(["ip", "netns", "exec", ns.name, "nft", "delete", "table", "inet", "linx"])
            #expect(delete.status != 0 && delete.stderr.contains("Operation not permitted"))
            // The namespace's thread outlives its idle timeout (50 ms) while it
            // owns the table. The control: a thread of the same kernel in a
            // second namespace, started after ours went idle, with the same
            // timeout and no table. Once it has ended, ours would have too.
            try await ThrowawayNamespace.with(links: []) { control in
                let ours = try #require(NamespaceHolders.identity(of: "/run/netns/\(ns.name)"))
                let theirs = try #require(NamespaceHolders.identity(of: "/run/netns/\(control.name)"))
                // A job there starts its thread (it may end before we look: then so much the sooner).
                _ = try await kernel!.observeTable(table, in: control.scope)
                let controlEnded = await RealKernel.poll(for: .seconds(5)) { NamespaceHolders.threads()[theirs] == nil }
                #expect(controlEnded, "the control namespace's idle thread never ended")
                #expect(NamespaceHolders.threads()[ours] != nil, "the thread owning the table ended when idle")
            }
            #expect(try ns.exec("nft", "list", "tables").contains("inet linx"))
            let persist = try await NftablesReconciler(backend: kernel!).reconcile(
                in: NftScope(ns.scope, table: NftTableRef(.inet, "kept")), desired: desired, options: NftablesOptions(lifetime: .ownedPersistent))
            #expect(persist.failed.first?.error.errno == .notSupported, "nft 1.0.6 cannot set persist")
            kernel = nil
            let gone = await RealKernel.poll(for: .seconds(5)) { (try? ns.exec("nft", "list", "tables"))?.contains("inet linx") == false }
            #expect(gone)
        }
    }

    @Test("the monitor reports commits as hints and the Source forwards them")
    func monitor() async throws {
        try await ThrowawayNamespace.with { ns in
            let source = NftablesSource(backend: LinuxKernel())
            guard case .hints(let hints) = try await source.subscribe(scope: NftScope(ns.scope, table: table)) else {
                Issue.record("no monitor")
                return
            }
            var iterator = hints.makeAsyncIterator()
            try ns.exec("nft", "add table ip someone")
            #expect(try await iterator.next() == .changed)
        }
    }

    @Test("the Source's hints follow a named namespace across ip netns del and add")
    func hintsFollowTheName() async throws {
        try await ThrowawayNamespace.with { ns in
            guard case .hints(let hints) = try await NftablesSource(backend: LinuxKernel()).subscribe(scope: NftScope(ns.scope, table: table)) else {
                Issue.record("no monitor")
                return
            }
            let recorder = EventRecorder(hints)
            defer { recorder.stop() }
            try ns.exec("nft", "add table ip before")
            #expect(await recorder.sees(within: .seconds(5)) { $0 == .changed })
            try Command.check(["ip", "netns", "del", ns.name])
            try Command.check(["ip", "netns", "add", ns.name])
            #expect(await recorder.sees(within: .seconds(5)) { if case .scopeLost = $0 { true } else { false } })
            #expect(await recorder.sees(within: .seconds(5)) { $0 == .scopeReplaced })
            // Heard from the new namespace: its first commit after the resubscription.
            let seen = recorder.count { $0 == .changed }
            try ns.exec("nft", "add table ip after")
            #expect(await RealKernel.poll(for: .seconds(5)) { recorder.count { $0 == .changed } > seen })
        }
    }

    @Test("a monitor that falls behind reports an overflow, then keeps reporting commits")
    func monitorOverflow() async throws {
        try await ThrowawayNamespace.with { ns in
            let kernel = LinuxKernel(configuration: .init(monitorReceiveBuffer: 4096))
            let events = try await kernel.nftEvents(in: ns.scope)
            // Nobody reads while one transaction announces 500 rules: the tiny buffer must overflow.
            try ns.exec("nft", (["add table ip flood", "add chain ip flood c"] + (1...500).map { "add rule ip flood c tcp dport \($0) accept" }).joined(separator: "; "))
            let recorder = EventRecorder(events)
            defer { recorder.stop() }
            #expect(await recorder.sees(within: .seconds(2)) { $0 == .overflow })
            try ns.exec("nft", "add table ip later")
            #expect(await recorder.sees(within: .seconds(2)) { $0 == .changed })
        }
    }

    /// Before NftDesiredText, this set type reached nft as written: its
    /// `flush ruleset` ran in the scratch check's transaction and deleted
    /// the namespace's every table, docker's included.
    @Test("a set type that would end its nft command is refused before nft sees it; the foreign table survives")
    func injectionRefused() async throws {
        try await ThrowawayNamespace.with { ns in
            try ns.exec("nft", "add table ip docker; add chain ip docker c; add rule ip docker c tcp dport 8080 accept")
            let reconciler = NftablesReconciler(backend: LinuxKernel())
            let hostile = NftTable(sets: [NftSet("s", type: "ipv4_addr; }; flush ruleset; add table inet zz; add set inet zz s2 { type ipv4_addr")])
            await #expect(throws: ReconcileError.self) { try await reconciler.reconcile(in: NftScope(ns.scope, table: table), desired: hostile) }
            // A caller of the backend itself: refused by the backend, naming the command.
            let kernel = LinuxKernel()
            let generation = try await kernel.observeTable(table, in: ns.scope).generation
            let commands: [NftCommand] = [.addTable(table, flags: [], comment: "linx"), .addSet(table, hostile.sets[0])]
            for check in [false, true] {
                do throws(NftTransactionError) {
                    if check { _ = try await kernel.checkTransaction(commands, in: ns.scope) } else { _ = try await kernel.commit(commands, expecting: generation, in: ns.scope) }
                    Issue.record("the hostile set type was taken")
                } catch {
                    #expect(error.index == 1 && error.error.errno == .invalidArgument, "\(error)")
                }
            }
            let ruleset = try ns.exec("nft", "list", "ruleset")
            #expect(ruleset.contains("tcp dport 8080 accept") && !ruleset.contains("table inet zz"), "\(ruleset)")
        }
    }

    /// libnftables 1.0.6 keeps one interface list for the whole process,
    /// filled from the calling thread's namespace by the first `iif` it
    /// meets and freed at the end of every run. Two namespaces' threads
    /// running nft at once therefore crashed the process (a CI run died of
    /// SIGSEGV in that free) or resolved a name against the other
    /// namespace's links. A C program doing what this test does crashed on
    /// every run here without a lock, and resolved every name right with one.
    @Test("nft in two namespaces at once: each resolves iif names against its own links")
    func concurrentNamespacesResolveTheirOwnInterfaces() async throws {
        try await ThrowawayNamespace.with(links: [.veth("nfa0", peer: "nfa1")]) { a in
            try await ThrowawayNamespace.with(links: [.veth("nfb0", peer: "nfb1")]) { b in
                let kernel = LinuxKernel()
                for ns in [a, b] { try ns.exec("nft", "add table \(table); add chain \(table) c") }
                let wrong = try await withThrowingTaskGroup(of: [String].self) { group in
                    for (ns, mine, other) in [(a, "nfa0", "nfb0"), (b, "nfb0", "nfa0")] {
                        group.addTask {
                            var wrong: [String] = []
                            // Many names a run, so the runs overlap for long.
                            let rules = (0..<30).map { NftCommand.addRule(table, chain: "c", rule: "iif \"\(mine)\" tcp dport \($0) accept", before: nil) }
                            for round in 0..<200 {
                                let foreign = !round.isMultiple(of: 2)
                                let commands = rules + (foreign ? [.addRule(table, chain: "c", rule: "iif \"\(other)\" accept", before: nil)] : [])
                                let accepted: Bool
                                do throws(NftTransactionError) { accepted = try await kernel.checkTransaction(commands, in: ns.scope) } catch { accepted = false }
                                if accepted == foreign { wrong.append("\(ns.name) round \(round): \(accepted ? "accepted iif \(other)" : "refused iif \(mine)")") }
                            }
                            return wrong
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
                #expect(wrong.isEmpty, "\(wrong.prefix(5))")
            }
        }
    }
}

enum NftKernel {
    static let hasNft = Command.run(["nft", "--version"]).status == 0
}

/// The real kernel, with another writer committing just before the first
/// commit a pass makes: the race a compare-and-swap exists for.
final class RacingBackend: NftablesBackend {
    let kernel: LinuxKernel
    let race: @Sendable () -> Void
    private let raced = Atomic<Bool>(false)

    init(kernel: LinuxKernel, race: @escaping @Sendable () -> Void) {
        self.kernel = kernel
        self.race = race
    }

    func observeTable(_ table: NftTableRef, in scope: NetnsScope) async throws(KernelError) -> NftObservation {
        try await kernel.observeTable(table, in: scope)
    }

    func commit(_ commands: [NftCommand], expecting generation: UInt32, in scope: NetnsScope) async throws(NftTransactionError) -> UInt32 {
        if !raced.exchange(true, ordering: .relaxed) { race() }
        return try await kernel.commit(commands, expecting: generation, in: scope)
    }

    func canonicalize(_ table: NftTable, as ref: NftTableRef, in scope: NetnsScope) async throws(NftTransactionError) -> NftTable {
        try await kernel.canonicalize(table, as: ref, in: scope)
    }

    func nftEvents(in scope: NetnsScope) async throws(KernelError) -> AsyncThrowingStream<NftEvent, any Error> {
        try await kernel.nftEvents(in: scope)
    }
}
