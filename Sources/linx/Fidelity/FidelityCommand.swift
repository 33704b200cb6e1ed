import ArgumentParser
import Foundation
import LinxFidelity
import LinxKernelSim
import LinxLinux
import LinxTestSupport

/// `linx fidelity`: the differential check of the simulator against this
/// machine's kernel.
struct FidelityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fidelity",
        abstract: "Check the simulated kernel against this machine's kernel (root).",
        discussion: """
            Drives the same seeded sequences of rtnetlink requests, link changes and sysctl writes \
            through the backend protocols on the simulator and on the real kernel, in a throwaway \
            network namespace per seed (the host is never touched), and compares after every step \
            the outcome (errno and ext-ack text), the links, addresses in dump order, every route \
            of every table, and the sysctls; at the end every net. key. The nftables subsystem \
            commits seeded batches of nf_tables commands on one table to both kernels and compares \
            after every batch the outcome (carried out, or refused with which errno at which command) \
            and the table as each lists it. A divergence prints the sequence, the step, both sides \
            and the command that replays it, and the exit status is 1.
            """)

    @Option(help: "How many fresh seeds to run (consecutive, from --seed).")
    var seeds: Int = 100

    @Option(help: "The first seed (default: a random one, printed).")
    var seed: UInt64?

    @Option(help: "Steps per sequence.")
    var steps: Int = 40

    @Option(help: "Subsystems to check, comma-separated: \(Self.subsystemNames.joined(separator: ", ")).")
    var subsystem: String = Self.subsystemNames.joined(separator: ",")

    @Option(help: "nftables: commands per batch, at most (1: one command a batch).")
    var nftBatch: Int = 4

    @Flag(help: "Go on after a divergence and report them all.")
    var keepGoing = false

    @Flag(help: "Let sysctl steps write every net. key of the catalog, not only the ones whose handlers the simulator models in full.")
    var allKeys = false

    func validate() throws {
        guard seeds > 0 else { throw ValidationError("--seeds must be at least 1") }
        guard steps > 0 else { throw ValidationError("--steps must be at least 1") }
        guard nftBatch > 0 else { throw ValidationError("--nft-batch must be at least 1") }
        _ = try subsystems()
    }

    /// The name of the nf_tables check, which has its own sequences
    /// (``NftFidelityCheck``) beside the rtnl and sysctl steps that
    /// ``FidelityCheck`` draws from one sequence.
    static let nftables = "nftables"
    static let subsystemNames = FidelitySubsystem.allCases.map(\.rawValue) + [nftables]

    /// The subsystems named by `--subsystem`: the ones drawn into one
    /// rtnl/sysctl sequence, and whether nf_tables is checked too.
    func subsystems() throws -> (sequenced: [FidelitySubsystem], nftables: Bool) {
        var sequenced: [FidelitySubsystem] = []
        var nftables = false
        for name in subsystem.split(separator: ",", omittingEmptySubsequences: false) {
            if name == Self.nftables {
                nftables = true
            } else if let found = FidelitySubsystem(rawValue: String(name)) {
                sequenced.append(found)
            } else {
                throw ValidationError("--subsystem: unknown subsystem \"\(name)\" (known: \(Self.subsystemNames.joined(separator: ", ")))")
            }
        }
        return (sequenced, nftables)
    }

    func run() async throws {
        guard geteuid() == 0 else {
            throw CommandError("linx fidelity compares against the real kernel in throwaway namespaces and must run as root")
        }
        let first = seed ?? UInt64.random(in: 1...UInt64(UInt32.max))
        let chosen = try subsystems()
        var options = FidelityCheck.Options(steps: steps, subsystems: chosen.sequenced)
        options.allKeys = allKeys
        let check = chosen.sequenced.isEmpty
            ? nil : FidelityCheck(options: options, sysctlKeys: await FidelityCheck.writableKeys(allKeys: allKeys))
        let nftCheck = chosen.nftables ? NftFidelityCheck(steps: steps, maxBatch: nftBatch) : nil
        let kernel = LinuxKernel(configuration: .init(idleTimeout: .seconds(1)))
        let clock = ContinuousClock()
        let start = clock.now
        print("linx fidelity: seeds \(first)...\(first + UInt64(seeds) - 1), \(steps) steps, subsystems \(subsystem)")
        var divergences = 0
        var compared = (sequenced: 0, nftables: 0)
        seeds: for seed in first..<(first + UInt64(seeds)) {
            if let check {
                let sim = try SimFidelityKernel(seed: seed)
                let real = try LinuxFidelityKernel(backend: kernel)
                defer { real.close() }
                compared.sequenced += 1
                if let divergence = try await check.run(seed: seed, sim: sim, kernel: real) {
                    divergences += 1
                    print(divergence.description)
                    if !keepGoing { break seeds }
                }
            }
            if let nftCheck {
                // Each seed on a table of its own namespace: the generation id is namespace-wide.
                let divergence = try await ThrowawayNamespace.with(links: []) { namespace in
                    try await nftCheck.run(
                        seed: seed, sim: SimKernel(seed: seed), simScope: .current, kernel: kernel, kernelScope: namespace.scope)
                }
                compared.nftables += 1
                if let divergence {
                    divergences += 1
                    print("nftables: \(divergence)")
                    if !keepGoing { break seeds }
                }
            }
        }
        let elapsed = clock.now - start
        let ran = (check == nil ? [] : ["\(compared.sequenced) \(chosen.sequenced.map(\.rawValue).joined(separator: "+")) sequence(s)"])
            + (nftCheck == nil ? [] : ["\(compared.nftables) nftables sequence(s)"])
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("linx fidelity: \(ran.joined(separator: ", ")) compared, \(divergences) divergence(s), \(String(format: "%.1f", seconds)) s")
        if divergences > 0 { throw ExitCode(1) }
    }
}
