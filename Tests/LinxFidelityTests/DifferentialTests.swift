import Foundation
import LinxFidelity
import LinxKernelSim
import LinxLinux
import LinxReconcile
import LinxTestSupport
import Testing

/// The differential check on a bounded number of seeds: the simulator
/// against this machine's kernel, every step compared. Root only (throwaway
/// namespaces); LINX_FIDELITY_SEEDS=N runs seeds 1...N (default 8); `linx
/// fidelity --seeds N` runs fresh ones.
@Suite("Differential: simulator against the real kernel", .enabled(if: getuid() == 0, "needs root: it compares against the real kernel in throwaway namespaces"))
struct DifferentialTests {
    static let seeds: [UInt64] = Array(1...UInt64(ProcessInfo.processInfo.environment["LINX_FIDELITY_SEEDS"].flatMap(UInt64.init) ?? 8))

    @Test("rtnl and sysctl sequences: same outcomes, same dumps, same net. tree", arguments: seeds)
    func sequences(seed: UInt64) async throws {
        let check = FidelityCheck(sysctlKeys: await FidelityCheck.writableKeys())
        let real = try LinuxFidelityKernel(backend: LinuxKernel())
        defer { real.close() }
        let divergence = try await check.run(seed: seed, sim: try SimFidelityKernel(seed: seed), kernel: real)
        #expect(divergence == nil, "\(divergence.map(\.description) ?? "")")
    }
}

/// The nf_tables differential: seeded transaction sequences on the
/// simulator and in a throwaway namespace of this machine's kernel.
@Suite("Differential: simulated nf_tables against the real kernel", .enabled(if: getuid() == 0 && Command.run(["nft", "--version"]).status == 0, "needs root and nft: it compares against the real kernel in throwaway namespaces"))
struct NftDifferentialTests {
    /// LINX_FIDELITY_NFT_BATCH=N draws batches of up to N commands (default 4).
    static let check = NftFidelityCheck(maxBatch: ProcessInfo.processInfo.environment["LINX_FIDELITY_NFT_BATCH"].flatMap(Int.init) ?? 4)

    @Test("nf_tables sequences: same outcomes, same refused command, same listings", arguments: DifferentialTests.seeds)
    func sequences(seed: UInt64) async throws {
        try await ThrowawayNamespace.with(links: []) { ns in
            let check = Self.check
            let divergence = try await check.run(seed: seed, sim: SimKernel(seed: seed), simScope: .current, kernel: LinuxKernel(), kernelScope: ns.scope)
            #expect(divergence == nil, "\(divergence.map(\.description) ?? "")")
        }
    }

    /// `iif`/`oif` name links: the same rules on both kernels, each in a
    /// namespace with lo and a veth pair pa0/pa1, across the pair's
    /// deletion and a new pair. Compared after every step: the outcome and
    /// the listing (an index whose link went lists as the number, one a
    /// new link took as its name). What the simulator models of it was
    /// observed so first (NftInterfaceTests says how).
    @Test("iif/oif sequences across a link deletion: same outcomes, same listings")
    func interfaceSequence() async throws {
        let rules = [
            "iif \"pa0\" accept", "oif pa1 accept", "meta iif \"pa0\" accept", "meta oif lo accept", "iif 7 accept", "iif 2 accept",
            "iif 05 accept", "iif \"\" accept", "iif { pa1, lo, pa0 } accept", "iif { lo, 1 } accept", "iif { pa0 } accept",
            "iif != pa0 accept", "iifname \"zz9\" accept", "iif \"zz9\" accept", "oif \"Lo\" accept", "iif 2147483648 accept",
            "tcp dport { 22 } accept", "iif 4 accept",
        ]
        let sim = SimKernel(seed: 1)
        let simScope = NetnsScope.named("iif")
        try sim.createNamespace(simScope)
        // Numbered as `ip link add pa0 type veth peer name pa1` numbers
        // them on this kernel (the peer first): compared below.
        try sim.addVethPair("pa1", "pa0", in: simScope)
        try await ThrowawayNamespace.with(links: [.veth("pa0", peer: "pa1")]) { ns in
            let kernel = LinuxKernel()
            func indices(_ links: [Link]) -> [String: Int32] { Dictionary(uniqueKeysWithValues: links.map { ($0.name, $0.index) }) }
            func sameLinks() async throws {
                let (a, b) = (indices(try await sim.links(in: simScope)), indices(try await kernel.links(in: ns.scope)))
                try #require(a == b, "the simulator's links \(a), the kernel's \(b)")
            }
            var step = 0
            func compare(_ batch: [NftFidelityCheck.Step]) async throws {
                step += 1
                let a = try await NftFidelityCheck.step(batch, on: sim, in: simScope)
                let b = try await NftFidelityCheck.step(batch, on: kernel, in: ns.scope)
                #expect(a == b, "step \(step) \(batch):\n  sim:    \(a)\n  kernel: \(b)")
            }
            func rule(_ text: String) -> NftFidelityCheck.Step { .addRule(chain: "a", rule: text, beforePosition: nil) }
            try await sameLinks()
            try await compare([.addTable, .addChain("a", hook: nil, priority: 0, policy: .accept)])
            for text in rules { try await compare([rule(text)]) }
            // A later command naming a missing link refuses the batch.
            try await compare([rule("accept"), rule("iif { \"lo\", \"zz9\" } accept")])
            // The pair goes (pa0 takes pa1): the rules keep the indices.
            try sim.removeLink("pa0", in: simScope)
            try ns.ip("link", "del", "pa0")
            try await sameLinks()
            try await compare([.addTable])
            try await compare([rule("iif \"pa0\" accept")])
            // A new pair takes the next indices: `iif 4` names its link.
            try sim.addVethPair("pb1", "pb0", in: simScope)
            try ns.ip("link", "add", "pb0", "type", "veth", "peer", "name", "pb1")
            try await sameLinks()
            try await compare([.addTable])
            try await compare([rule("oif pb0 accept"), rule("iif { 3, pb1 } accept")])
        }
    }

    @Test("the sequences draw refusals as well as changes")
    func drawsRefusals() async throws {
        let check = NftFidelityCheck()
        var outcomes = Set<String>()
        for seed in DifferentialTests.seeds {
            let kernel = SimKernel(seed: seed)
            for batch in check.sequence(seed: seed) {
                let line = try await NftFidelityCheck.step(batch, on: kernel, in: .current)
                outcomes.insert(String(line.prefix { $0 != ";" }).split(separator: " ").prefix(2).joined(separator: " "))
            }
        }
        #expect(outcomes.contains("done") && outcomes.filter { $0.hasPrefix("refused") }.count >= 3, "\(outcomes)")
    }

    /// A batch where two or more commands fail: without the one named, the
    /// rest is still refused (on the simulator, from the same table).
    @Test("the sequences draw batches where several commands fail, so the command named is compared")
    func drawsMultiFailureBatches() async throws {
        var multi = 0
        for seed in DifferentialTests.seeds {
            let batches = Self.check.sequence(seed: seed)
            let kernel = SimKernel(seed: seed)
            for (step, batch) in batches.enumerated() {
                let line = try await NftFidelityCheck.step(batch, on: kernel, in: .current)
                guard batch.count > 1, let at = line.firstRange(of: " at command "),
                    let index = Int(line[at.upperBound...].prefix { $0.isNumber })
                else { continue }
                // The same table again (a fresh simulator, the steps before
                // replayed), and the batch without the command named.
                let probe = SimKernel(seed: seed)
                for earlier in batches[..<step] { _ = try await NftFidelityCheck.step(earlier, on: probe, in: .current) }
                var rest = batch
                rest.remove(at: index - 1)
                if try await NftFidelityCheck.step(rest, on: probe, in: .current).hasPrefix("refused") { multi += 1 }
            }
        }
        #expect(multi >= DifferentialTests.seeds.count, "\(multi) multi-failure batches")
    }
}
