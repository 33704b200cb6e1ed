import Foundation
import LinxFidelity
import LinxKernelSim
import LinxLinux
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
