import LinxKernelSim
import LinxReconcile
import SystemPackage
import Testing

@Suite("nftables reconciler on the simulated kernel")
struct NftablesReconcilerTests {
    let scope = NftScope(table: NftTableRef(.inet, "linx"))
    /// Written the way people type rules, not the way nft lists them.
    let desired = NftTable(
        chains: [
            NftChain("input", base: NftBaseChain(type: .filter, hook: .input, priority: 0, policy: .drop), rules: [
                "ct state related,established accept",
                "iif lo accept",
                "tcp dport {443,80, 22} accept",
                "ip saddr @blocked drop",
                "jump audit",
            ]),
            NftChain("audit", rules: ["counter", "log prefix \"audit \""]),
        ],
        sets: [NftSet("blocked", type: "ipv4_addr", flags: ["interval"], elements: ["10.9.0.0/16", "192.0.2.7"])])

    func commits(_ kernel: SimKernel) -> Int {
        kernel.history.count { $0.actor == .backend && $0.description.contains("nft commit") }
    }

    @Test("a cold pass creates the table in one transaction; the next pass is a no-op although the rules were not written canonically")
    func coldThenNoOp() async throws {
        let kernel = SimKernel(seed: 1)
        let reconciler = NftablesReconciler(backend: kernel)
        let before = try #require(kernel.nftGeneration())
        let first = try await reconciler.reconcile(in: scope, desired: desired)
        #expect(first.converged && first.strategy == .allOrNothing && first.retries == 0)
        let expectedOps = 1 + 1 + 2 + 2 + 7
        #expect(first.applied.count == expectedOps)
        #expect(kernel.nftGeneration() == before + 1)
        #expect(first.lastApplied.ownsTable)
        let table = try #require(kernel.nftTable(scope.table))
        #expect(table.comment == "linx")
        #expect(table.chains.map(\.name) == ["input", "audit"])
        #expect(table.chains[0].rules.map(\.text)[2] == "tcp dport { 22, 80, 443 } accept")
        let second = try await reconciler.reconcile(in: scope, desired: desired, lastApplied: first.lastApplied)
        #expect(second.converged && second.planned.isEmpty)
        #expect(kernel.nftGeneration() == before + 1)
        #expect(commits(kernel) == 1)
    }

    @Test("other tables, and a table of our name that is not ours, are never touched")
    func foreignTablesSurvive() async throws {
        let kernel = SimKernel(seed: 1)
        let user = kernel.nftSocket()
        let theirs = NftTableRef(.ip, "docker")
        try user.commit([
            .addTable(theirs, flags: [], comment: nil), .addChain(theirs, name: "fwd", base: nil),
            .addRule(theirs, chain: "fwd", rule: "accept", before: nil),
        ])
        let reconciler = NftablesReconciler(backend: kernel)
        _ = try await reconciler.reconcile(in: scope, desired: desired)
        let released = try await reconciler.reconcile(in: scope, desired: nil)
        #expect(released.applied == [.delete(.table(scope.table, flags: []))])
        #expect(kernel.nftTables() == [theirs])
        #expect(kernel.nftTable(theirs)?.chains.first?.rules.map(\.text) == ["accept"])

        // The user's own table of the same name, made before Linx wanted it.
        try user.commit([.addTable(scope.table, flags: [], comment: nil), .addChain(scope.table, name: "mine", base: nil)])
        let generation = kernel.nftGeneration()
        let refused = try await reconciler.reconcile(in: scope, desired: desired)
        #expect(!refused.converged && refused.applied.isEmpty)
        #expect(refused.failed.first?.error.errno == .fileExists)
        #expect(kernel.nftGeneration() == generation)
        #expect(kernel.nftTable(scope.table)?.chains.map(\.name) == ["mine"])
        let release = try await reconciler.reconcile(in: scope, desired: nil)
        #expect(release.planned.isEmpty && kernel.nftTable(scope.table) != nil)
    }

    @Test("a rule added by hand to our table is deleted on the next pass; one inserted at the top too, keeping the others' handles")
    func handAddedRulesHealed() async throws {
        let kernel = SimKernel(seed: 1)
        let reconciler = NftablesReconciler(backend: kernel)
        _ = try await reconciler.reconcile(in: scope, desired: desired)
        let handles = try #require(kernel.nftTable(scope.table)?.chains[0].rules.map(\.handle))
        let user = kernel.nftSocket()
        try user.commit([
            .addRule(scope.table, chain: "input", rule: "tcp dport 8080 accept", before: nil),
            .addRule(scope.table, chain: "input", rule: "udp dport 53 accept", before: handles[0]),
        ])
        let healed = try await reconciler.reconcile(in: scope, desired: desired)
        #expect(healed.converged)
        #expect(Set(healed.applied.map(\.symbol)) == ["-"] && healed.applied.count == 2)
        let after = try #require(kernel.nftTable(scope.table)?.chains[0].rules)
        #expect(after.map(\.handle) == handles)
    }

    @Test("a rule moved or added in the middle goes where the desired state puts it")
    func ordering() async throws {
        let kernel = SimKernel(seed: 1)
        let reconciler = NftablesReconciler(backend: kernel)
        _ = try await reconciler.reconcile(in: scope, desired: desired)
        var changed = desired
        changed.chains[0].rules = ["iif lo accept", "udp dport 53 accept", "ct state related,established accept", "tcp dport {443,80, 22} accept", "ip saddr @blocked drop", "jump audit"]
        let report = try await reconciler.reconcile(in: scope, desired: changed)
        #expect(report.converged)
        let canonical = try await kernel.canonicalize(changed, as: scope.table, in: .current)
        #expect(kernel.nftTable(scope.table)?.chains[0].rules.map(\.text) == canonical.chains[0].rules)
        // The moved rule is one update (deleted and inserted again, in one
        // op whose previous names the old handle); the new rule one create.
        #expect(report.applied.map(\.symbol).sorted() == ["+", "~"], "\(report.applied)")
        guard case .update(.rule(_, let text, nil), .rule(_, let was, let handle?))? = report.applied.first(where: { $0.symbol == "~" }) else {
            Issue.record("no move in \(report.applied)")
            return
        }
        #expect(text == was && handle > 0)
    }

    @Test("an invalid rule is refused before anything is applied, naming the chain and rule")
    func invalidRule() async throws {
        let kernel = SimKernel(seed: 1)
        let reconciler = NftablesReconciler(backend: kernel)
        var bad = desired
        bad.chains[0].rules.append("tcp dport frob accept")
        let generation = kernel.nftGeneration()
        await #expect {
            _ = try await reconciler.reconcile(in: scope, desired: bad)
        } throws: { error in
            guard case ReconcileError.invalidDesired(let entry, let reason, _) = error else { return false }
            return entry.contains("chain input rule 6") && reason.contains("EINVAL")
        }
        var jump = desired
        jump.chains[1].rules = ["jump nowhere"]
        await #expect(throws: ReconcileError.self) { _ = try await reconciler.reconcile(in: scope, desired: jump) }
        var dup = desired
        dup.chains.append(NftChain("audit"))
        await #expect(throws: ReconcileError.self) { _ = try await reconciler.reconcile(in: scope, desired: dup) }
        var nat = desired
        nat.chains.append(NftChain("nat", base: NftBaseChain(type: .nat, hook: .forward)))
        await #expect(throws: ReconcileError.self) { _ = try await reconciler.reconcile(in: scope, desired: nat) }
        #expect(kernel.nftGeneration() == generation && kernel.nftTables().isEmpty)
    }

    @Test("a concurrent writer committing during the pass causes a retry, not a lost write")
    func raceRetries() async throws {
        let kernel = SimKernel(seed: 1)
        let reconciler = NftablesReconciler(backend: kernel)
        _ = try await reconciler.reconcile(in: scope, desired: desired)
        var changed = desired
        changed.sets[0].elements.append("198.51.100.1")
        // Between our observation and our commit, someone adds a rule to our table.
        kernel.raceNextNftCommits(1, with: [.addRule(scope.table, chain: "audit", rule: "drop", before: nil)])
        let report = try await reconciler.reconcile(in: scope, desired: changed)
        #expect(report.converged && report.retries == 1)
        // The re-plan saw the intruder and removed it in the same pass.
        let deleted = report.applied.compactMap { op -> String? in
            guard case .delete(.rule(let chain, let text, _)) = op else { return nil }
            return "\(chain) \(text)"
        }
        #expect(deleted == ["audit drop"])
        #expect(kernel.nftTable(scope.table)?.sets[0].elements.contains("198.51.100.1") == true)
        #expect(kernel.nftTable(scope.table)?.chains[1].rules.map(\.text) == ["counter", "log prefix \"audit \""])
    }

    @Test("retries are bounded: a pass that keeps losing the race reports ERESTART and applies nothing")
    func raceExhausted() async throws {
        let kernel = SimKernel(seed: 1)
        let reconciler = NftablesReconciler(backend: kernel)
        kernel.raceNextNftCommits(10)
        let report = try await reconciler.reconcile(in: scope, desired: desired, options: NftablesOptions(maxRetries: 2))
        #expect(report.retries == 2 && report.applied.isEmpty)
        #expect(report.failed.count == 1 && report.failed[0].error.errno == .restart)
        #expect(report.pending.count == report.planned.count - 1)
        #expect(kernel.nftTable(scope.table) == nil)
    }

    @Test("a refused transaction changes nothing and names the refused op with its errno")
    func refusedTransaction() async throws {
        let kernel = SimKernel(seed: 1)
        let reconciler = NftablesReconciler(backend: kernel)
        _ = try await reconciler.reconcile(in: scope, desired: desired)
        var retyped = desired
        retyped.sets[0] = NftSet("blocked", type: "ipv6_addr", elements: ["2001:db8::1"])
        retyped.chains[0].rules[3] = "ip6 saddr @blocked drop"
        let ok = try await reconciler.reconcile(in: scope, desired: retyped)
        #expect(ok.converged, "a set re-typed with its rules re-created in one transaction")
        kernel.failNextNft(1, of: .commit, with: .noBufferSpace)
        let report = try await reconciler.reconcile(in: scope, desired: desired)
        #expect(report.applied.isEmpty && report.failed.count == 1 && report.failed[0].error.errno == .noBufferSpace)
        #expect(report.strategy == .allOrNothing && !report.pending.isEmpty)
        #expect(kernel.nftTable(scope.table)?.sets[0].type == "ipv6_addr")
    }

    @Test("lifetime owned: another process cannot delete the table, and it goes with the agent's socket")
    func ownedLifetime() async throws {
        let kernel = SimKernel(seed: 1)
        let agent = kernel.nftSocket()
        let reconciler = NftablesReconciler(backend: agent)
        let report = try await reconciler.reconcile(in: scope, desired: desired, options: NftablesOptions(lifetime: .owned))
        #expect(report.converged && kernel.nftTable(scope.table)?.flags == [.owner])
        let other = kernel.nftSocket()
        #expect(throws: NftTransactionError.self) { try other.commit([.deleteTable(scope.table)]) }
        // Another reconciler (another process) gets EPERM in its report.
        let intruder = try await NftablesReconciler(backend: other).reconcile(in: scope, desired: nil)
        #expect(intruder.failed.first?.error.errno == .notPermitted)
        agent.close()
        #expect(kernel.nftTable(scope.table) == nil)
    }

    @Test("a policy change is an update in place; a hook change re-creates the chain")
    func chainChanges() async throws {
        let kernel = SimKernel(seed: 1)
        let reconciler = NftablesReconciler(backend: kernel)
        _ = try await reconciler.reconcile(in: scope, desired: desired)
        var changed = desired
        changed.chains[0].base?.policy = .accept
        let policy = try await reconciler.reconcile(in: scope, desired: changed)
        #expect(policy.converged && policy.applied.count == 1 && policy.applied[0].symbol == "~")
        changed.chains[0].base?.priority = 10
        let hook = try await reconciler.reconcile(in: scope, desired: changed)
        #expect(hook.converged)
        #expect(kernel.nftTable(scope.table)?.chains.first { $0.name == "input" }?.base?.priority == 10)
        let again = try await reconciler.reconcile(in: scope, desired: changed)
        #expect(again.planned.isEmpty)
    }
}
