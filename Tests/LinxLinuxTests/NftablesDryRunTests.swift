import LinxLinux
import LinxReconcile
import LinxTestSupport
import SystemPackage
import Testing

/// libnftables' dry run (`nft -c`) on the real kernel, in throwaway
/// namespaces: which refusals it meets exactly as a commit does, and that it
/// changes nothing. This is what `linx plan` of a new table can promise.
@Suite("nftables dry run on the real kernel", .enabled(if: RealKernel.available && NftKernel.hasNft, "needs root, iproute2 and nft"))
struct NftablesDryRunTests {
    let t = NftTableRef(.inet, "linx")

    /// A table with a base chain jumping to a regular chain, and a set a rule uses.
    func base(_ kernel: LinuxKernel, _ scope: NetnsScope) async throws {
        let generation = try await kernel.observeTable(t, in: scope).generation
        _ = try await kernel.commit([
            .addTable(t, flags: [], comment: "linx"),
            .addSet(t, NftSet("s", type: "ipv4_addr")),
            .addChain(t, name: "input", base: NftBaseChain(type: .filter, hook: .input)),
            .addChain(t, name: "audit", base: nil),
            .addRule(t, chain: "input", rule: "jump audit", before: nil),
            .addRule(t, chain: "input", rule: "ip saddr @s drop", before: nil),
        ], expecting: generation, in: scope)
    }

    /// (transaction, errno both must meet, index of the command named).
    var refused: [(String, [NftCommand], Errno, Int)] {
        [
            ("a rule nft cannot parse", [.addRule(t, chain: "input", rule: "tcp dport frob accept", before: nil)], .invalidArgument, 0),
            ("a jump to a missing chain", [.addRule(t, chain: "audit", rule: "jump nowhere", before: nil)], .noSuchFileOrDirectory, 0),
            ("a jump to a base chain", [.addRule(t, chain: "audit", rule: "jump input", before: nil)], .notSupported, 0),
            ("a loop reachable from a base chain", [
                .addChain(t, name: "sub", base: nil),
                .addRule(t, chain: "sub", rule: "jump audit", before: nil),
                .addRule(t, chain: "audit", rule: "jump sub", before: nil),
            ], .tooManyLinks, 2),
            ("deleting a chain a rule jumps to", [.deleteChain(t, name: "audit")], .resourceBusy, 0),
            ("deleting a set a rule uses", [.deleteSet(t, name: "s")], .resourceBusy, 0),
            ("re-declaring a set with another type", [.addSet(t, NftSet("s", type: "inet_service"))], .fileExists, 0),
            ("moving a base chain to another hook", [.addChain(t, name: "input", base: NftBaseChain(type: .filter, hook: .output))], .notSupported, 0),
            ("deleting a rule that is not there", [.deleteRule(t, chain: "input", handle: 9999)], .noSuchFileOrDirectory, 0),
            ("the second of two commands", [
                .addRule(t, chain: "audit", rule: "counter", before: nil),
                .addRule(t, chain: "audit", rule: "jump nowhere", before: nil),
            ], .noSuchFileOrDirectory, 1),
        ]
    }

    @Test("the dry run meets the refusals a commit meets, naming the same command, and changes nothing")
    func sameRefusals() async throws {
        try await ThrowawayNamespace.with { ns in
            let kernel = LinuxKernel()
            try await base(kernel, ns.scope)
            let before = try await kernel.observeTable(t, in: ns.scope)
            for (what, commands, errno, index) in refused {
                var dry: NftTransactionError?
                do throws(NftTransactionError) { _ = try await kernel.checkTransaction(commands, in: ns.scope) } catch { dry = error }
                #expect(dry?.error.errno == errno && dry?.index == index, "\(what): dry run \(String(describing: dry))")
                #expect(try await kernel.observeTable(t, in: ns.scope) == before, "\(what): the dry run changed something")
                var real: NftTransactionError?
                do throws(NftTransactionError) { _ = try await kernel.commit(commands, expecting: before.generation, in: ns.scope) } catch { real = error }
                #expect(real?.error.errno == errno && real?.index == index, "\(what): commit \(String(describing: real))")
                #expect(try await kernel.observeTable(t, in: ns.scope) == before, "\(what): the refused commit changed something")
            }
            let fine: [NftCommand] = [.addRule(t, chain: "audit", rule: "counter", before: nil)]
            #expect(try await kernel.checkTransaction(fine, in: ns.scope))
            #expect(try await kernel.observeTable(t, in: ns.scope) == before)
            _ = try await kernel.commit(fine, expecting: before.generation, in: ns.scope)
            #expect(try await kernel.observeTable(t, in: ns.scope).table?.chains.first { $0.name == "audit" }?.rules.map(\.text) == ["counter"])
        }
    }

    @Test("a plan of a new table is checked by a dry run: no scratch table, the generation does not move, a refusal names chain and rule")
    func planOfANewTable() async throws {
        try await ThrowawayNamespace.with { ns in
            let kernel = LinuxKernel()
            let scope = NftScope(ns.scope, table: t)
            let desired = NftTable(chains: [
                NftChain("input", base: NftBaseChain(type: .filter, hook: .input), rules: ["tcp dport 22 accept", "jump audit"]),
                NftChain("audit", rules: ["log prefix \"audit \""]),
            ])
            let generation = try await kernel.observeTable(t, in: ns.scope).generation
            let plan = try await NftablesReconciler(backend: kernel).plan(in: scope, desired: desired)
            #expect(plan.ops.count == 6 && plan.observation.generation == generation)
            var bad = desired
            bad.chains[1].rules.append("jump nowhere")
            await #expect {
                _ = try await NftablesReconciler(backend: kernel).plan(in: scope, desired: bad)
            } throws: { error in
                guard case ReconcileError.invalidDesired(let entry, let reason, let path) = error else { return false }
                return entry.contains("chain audit rule 2") && reason.contains("ENOENT") && path == ["chains", "audit", "rules", 1]
            }
            // A scratch table would have moved the generation twice.
            #expect(try await kernel.observeTable(t, in: ns.scope).generation == generation)
            #expect(try ns.exec("nft", "list", "tables").isEmpty)
        }
    }
}
