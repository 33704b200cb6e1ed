import ArgumentParser
import Foundation
import LinxConformance
import Synchronization

/// `linx fuzz`: convergence fuzzing of the built-in Sources on the simulated kernel.
struct FuzzCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Fuzz the built-in Sources' convergence on the simulated kernel.",
        discussion: """
            Each scenario draws from its seed a desired state, a fault mix and a sequence of \
            desired-state changes; runs a fault phase, then a quiet phase in which the Source must \
            converge within --max-passes. Every pass is audited for honest reports and untouched \
            foreign state. A failure prints its seed, the smallest scenario it shrinks to, and the \
            command that replays it; a run in which some fault kind never fired fails too.
            """)

    @Option(help: "Which Source to fuzz: rtnl, sysctl, cgroup or all.")
    var source: SourceChoice = .all

    @Option(help: "The campaign seed (default: a random one, printed).")
    var seed: UInt64?

    @Option(help: "Scenarios per Source.")
    var scenarios: Int = 1000

    @Option(help: "Quiet-phase passes allowed to converge after the faults stop.")
    var maxPasses: Int = 5

    @Option(help: "Scenarios run at once (default: one per core).")
    var parallel: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Replay one scenario (as a failure prints it) instead of a campaign.")
    var scenario: String?

    func validate() throws {
        guard scenarios > 0 else { throw ValidationError("--scenarios must be at least 1") }
        guard maxPasses > 0 else { throw ValidationError("--max-passes must be at least 1") }
        guard parallel > 0 else { throw ValidationError("--parallel must be at least 1") }
        if let scenario {
            do { _ = try FuzzScenario(parsing: scenario) } catch { throw ValidationError(error.description) }
            guard source != .all else { throw ValidationError("--scenario replays one Source: give --source") }
        }
    }

    func run() async throws {
        if let text = scenario {
            try await replay(try FuzzScenario(parsing: text))
            return
        }
        let seed = self.seed ?? UInt64.random(in: 1...UInt64(UInt32.max))
        var failed = false
        for source in source.sources {
            let options = FuzzOptions(seed: seed, scenarios: scenarios, maxPasses: maxPasses, parallelism: parallel)
            let bar = ProgressBar(label: "\(source.rawValue)/sim", enabled: isatty(STDERR_FILENO) == 1)
            let results = await source.fuzz(options: options) { done, total in bar.update(done, total) }
            bar.finish()
            print(FuzzReporter.render(results) { scenario in
                "linx fuzz --source \(source.rawValue) --max-passes \(maxPasses) --scenario '\(scenario)'"
            })
            failed = failed || !results.succeeded
        }
        if failed { throw ExitCode.failure }
    }

    private func replay(_ scenario: FuzzScenario) async throws {
        guard let source = source.sources.first else { return }
        let outcome = await source.replay(scenario, maxPasses: maxPasses)
        let fired = outcome.fired.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")
        if let failure = outcome.failure {
            print("FAIL \(source.rawValue)/sim scenario \(scenario)\n\(failure)\nfaults fired: \(fired)")
            throw ExitCode.failure
        }
        print("pass \(source.rawValue)/sim scenario \(scenario): \(outcome.passes) passes; faults fired: \(fired)")
    }
}

/// A one-line progress bar on standard error, redrawn at most every 1 %.
final class ProgressBar: Sendable {
    let label: String
    let enabled: Bool
    private let last = Mutex(-1)

    init(label: String, enabled: Bool) {
        self.label = label
        self.enabled = enabled
    }

    func update(_ done: Int, _ total: Int) {
        guard enabled, total > 0 else { return }
        let percent = done * 100 / total
        let redraw = last.withLock { last in
            guard percent != last else { return false }
            last = percent
            return true
        }
        guard redraw else { return }
        let width = 30
        let filled = done * width / total
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(done)/\(total)".utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
