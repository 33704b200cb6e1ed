import LinxFidelity
import LinxKernelSim
import Testing

/// What an nf_tables divergence prints, found without root: the simulator
/// against a second simulator whose first commit fails.
@Suite("nf_tables divergence report")
struct NftDivergenceTests {
    @Test("a divergence names its seed, step and batch, and its replay command runs the same sequence")
    func replayCommand() async throws {
        let check = NftFidelityCheck(steps: 9, maxBatch: 3)
        let failing = SimKernel(seed: 5)
        failing.failNextNft(1, of: .commit, with: .resourceBusy)
        let found = try await check.run(seed: 5, sim: SimKernel(seed: 5), simScope: .current, kernel: failing, kernelScope: .current)
        let divergence = try #require(found)
        #expect(divergence.step == 1 && divergence.batch == [.addTable])
        #expect(divergence.replayCommand == "linx fidelity --seeds 1 --seed 5 --steps 9 --subsystem nftables --nft-batch 3")
        #expect(divergence.description.hasSuffix("  replay: \(divergence.replayCommand)"), "\(divergence)")
    }
}
