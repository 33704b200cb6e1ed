import ArgumentParser
import Foundation
import LinxConformance
import LinxConformanceKernel

/// `linx conformance`: the conformance suite over the built-in Sources, on
/// the simulated kernel by default (no root needed).
struct ConformanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Run the conformance suite against the built-in Sources.",
        discussion: """
            Each case runs in a fresh sandbox: a simulated kernel by default, or (--backend kernel, \
            root only) a throwaway network namespace or cgroup. Prints one row per case and a summary; \
            exits 1 when any case failed. Replay a failure with the --seed and --filter it prints.
            """)

    @Option(help: "Which Source to test: rtnl, sysctl, cgroup, nftables or all.")
    var source: SourceChoice = .all

    @Option(help: "Where to run: sim (simulated kernel) or kernel (the real one, root only).")
    var backend: BackendChoice = .sim

    @Option(help: "Run only the cases whose subject/tags/id match this regular expression.")
    var filter: String?

    @Option(help: "The run's first seed; every case derives its own from each run seed.")
    var seed: UInt64 = 0

    @Option(help: "How many run seeds each case runs on (--seed, --seed + 1, ...); a case stops at its first failing seed.")
    var seeds: Int = ConformanceOptions.defaultSeedCount

    @Option(help: "Seconds a monitor may take to hint, or a loop to settle, before its case fails (a bound on failure only; raise it on a heavily loaded machine).")
    var hintTimeout: Double = Double(ConformanceOptions.defaultHintTimeout.components.seconds)

    @Option(help: "Also write the results as JUnit XML to this file.")
    var junit: String?

    func validate() throws {
        if let filter {
            do { _ = try CaseFilter(filter) } catch { throw ValidationError(error.description) }
        }
        if seeds < 1 { throw ValidationError("--seeds must be at least 1, not \(seeds)") }
        if !(hintTimeout > 0 && hintTimeout <= 86_400) {
            throw ValidationError("--hint-timeout must be more than 0 and at most 86400 seconds, not \(hintTimeout)")
        }
    }

    func run() async throws {
        let filter = try self.filter.map { pattern throws(CaseFilterError) in try CaseFilter(pattern) }
        let options = ConformanceOptions(
            seed: seed, seedCount: seeds, filter: filter, hintTimeout: .seconds(hintTimeout))
        var runs: [ConformanceResults] = []
        for source in source.sources {
            switch backend {
            case .sim:
                runs.append(await source.runOnSimulator(options: options))
            case .kernel:
                runs.append(await source.runOnKernel(options: options))
            }
        }
        print(TableReporter.render(runs) { result in
            let name = result.subject.split(separator: "/").first.map(String.init) ?? result.subject
            return "linx conformance --source \(name) --backend \(backend.rawValue) --seed \(result.runSeed) --seeds 1 --filter '\(result.testCase.id)'"
        }, terminator: "")
        if let junit {
            do {
                try JUnitReporter.render(runs).write(toFile: junit, atomically: true, encoding: .utf8)
            } catch {
                FileHandle.standardError.write(Data("linx conformance: cannot write \(junit): \(error.localizedDescription)\n".utf8))
                throw ExitCode(2)
            }
        }
        if runs.contains(where: { !$0.succeeded }) { throw ExitCode.failure }
    }
}

/// `--source`: one built-in Source or all of them.
enum SourceChoice: String, ExpressibleByArgument, CaseIterable {
    case rtnl, sysctl, cgroup, nftables, all

    var sources: [BuiltinSource] {
        switch self {
        case .rtnl: [.rtnl]
        case .sysctl: [.sysctl]
        case .cgroup: [.cgroup]
        case .nftables: [.nftables]
        case .all: BuiltinSource.allCases
        }
    }
}

/// `--backend`: the simulated kernel or the real one.
enum BackendChoice: String, ExpressibleByArgument, CaseIterable {
    case sim, kernel
}
