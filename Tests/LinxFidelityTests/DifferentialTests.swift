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
    @Test("nf_tables sequences: same outcomes, same listings", arguments: DifferentialTests.seeds)
    func sequences(seed: UInt64) async throws {
        try await ThrowawayNamespace.with(links: []) { ns in
            let check = NftFidelityCheck()
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
}
