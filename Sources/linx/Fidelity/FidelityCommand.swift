import ArgumentParser
import Foundation
import LinxFidelity
import LinxLinux

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
            of every table, and the sysctls; at the end every net. key. A divergence prints the \
            sequence, the step, both sides and the command that replays it, and the exit status is 1.
            """)

    @Option(help: "How many fresh seeds to run (consecutive, from --seed).")
    var seeds: Int = 100

    @Option(help: "The first seed (default: a random one, printed).")
    var seed: UInt64?

    @Option(help: "Steps per sequence.")
    var steps: Int = 40

    @Option(help: "Subsystems to draw from, comma-separated: \(FidelitySubsystem.allCases.map(\.rawValue).joined(separator: ", ")).")
    var subsystem: String = FidelitySubsystem.allCases.map(\.rawValue).joined(separator: ",")

    @Flag(help: "Go on after a divergence and report them all.")
    var keepGoing = false

    @Flag(help: "Let sysctl steps write every net. key of the catalog, not only the ones whose handlers the simulator models in full.")
    var allKeys = false

    func validate() throws {
        guard seeds > 0 else { throw ValidationError("--seeds must be at least 1") }
        guard steps > 0 else { throw ValidationError("--steps must be at least 1") }
        _ = try subsystems()
    }

    func subsystems() throws -> [FidelitySubsystem] {
        try subsystem.split(separator: ",").map { name in
            guard let found = FidelitySubsystem(rawValue: String(name)) else {
                throw ValidationError("--subsystem: unknown subsystem \"\(name)\" (known: \(FidelitySubsystem.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return found
        }
    }

    func run() async throws {
        guard geteuid() == 0 else {
            throw CommandError("linx fidelity compares against the real kernel in throwaway namespaces and must run as root")
        }
        let first = seed ?? UInt64.random(in: 1...UInt64(UInt32.max))
        var options = FidelityCheck.Options(steps: steps, subsystems: try subsystems())
        options.allKeys = allKeys
        let check = FidelityCheck(options: options, sysctlKeys: await FidelityCheck.writableKeys(allKeys: allKeys))
        let kernel = LinuxKernel(configuration: .init(idleTimeout: .seconds(1)))
        let clock = ContinuousClock()
        let start = clock.now
        print("linx fidelity: seeds \(first)...\(first + UInt64(seeds) - 1), \(steps) steps, subsystems \(subsystem)")
        var divergences = 0
        for seed in first..<(first + UInt64(seeds)) {
            let sim = try SimFidelityKernel(seed: seed)
            let real = try LinuxFidelityKernel(backend: kernel)
            defer { real.close() }
            if let divergence = try await check.run(seed: seed, sim: sim, kernel: real) {
                divergences += 1
                print(divergence.description)
                if !keepGoing { break }
            }
        }
        let elapsed = clock.now - start
        print("linx fidelity: \(divergences) divergence(s), \(String(format: "%.1f", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)) s")
        if divergences > 0 { throw ExitCode(1) }
    }
}
