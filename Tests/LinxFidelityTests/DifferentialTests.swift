import Foundation
import LinxFidelity
import LinxKernelSim
import LinxLinux
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
