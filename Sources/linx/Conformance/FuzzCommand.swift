import ArgumentParser
import Foundation
import LinxConformance
import Synchronization

/// `linx fuzz`: convergence fuzzing of the built-in Sources on the simulated
/// kernel (`linx fuzz run`, the default), and merging the results of a
/// campaign's shards (`linx fuzz merge`).
struct FuzzCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Fuzz the built-in Sources' convergence on the simulated kernel.",
        subcommands: [FuzzRunCommand.self, FuzzMergeCommand.self],
        defaultSubcommand: FuzzRunCommand.self)
}

/// `linx fuzz [run]`: a campaign, one shard of it, or one scenario's replay.
struct FuzzRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a fuzz campaign (or one shard of it), or replay one scenario with its trace.",
        discussion: """
            Each scenario draws from its seed a desired state, a fault mix and a sequence of \
            desired-state changes; runs a fault phase, then a quiet phase in which the Source must \
            converge within --max-passes. Every pass is audited for honest reports and untouched \
            foreign state. A failure prints its seed, the smallest scenario it shrinks to, the \
            command that replays it and the path of its saved trace; a campaign in which some fault \
            kind never fired fails too (a shard only reports its counts: `linx fuzz merge` checks \
            that rule over all the shards). --scenario replays one scenario and prints its trace: per pass the \
            desired state (or what changed), faults fired, drift, every op with its result or errno, \
            the report and lastApplied, and at a failure the expected-vs-actual difference key by key.
            --shard K/N runs the K-th of N disjoint parts of the campaign (N at most --scenarios; \
            every part needs the same --seed); \
            `linx fuzz merge` adds the parts' --json files up into the summary of the whole campaign.
            A campaign without --seed prints its random seed on standard error as it starts, so an \
            interrupted campaign can be rerun. --json, --junit and --trace-json take a file, or '-' for \
            standard output (one of them at most): the text report then goes to standard error, so \
            standard output holds the document alone. Every output path is checked before anything \
            runs; when one is bad, nothing runs and nothing is written.
            """)

    @Option(help: "Which Source to fuzz: rtnl, sysctl, cgroup, nftables or all.")
    var source: SourceChoice = .all

    @Option(help: "The campaign seed (default: a random one, printed on standard error as the campaign starts).")
    var seed: UInt64?

    @Option(help: "Scenarios per Source in the whole campaign (default: \(Self.defaultScenarios)).")
    var scenarios: Int?

    /// Optional rather than defaulted, so that a replay can refuse it.
    static let defaultScenarios = 1000

    @Option(help: "Quiet-phase passes allowed to converge after the faults stop (1 to \(FuzzScenario.passRange.upperBound)).")
    var maxPasses: Int = 5

    @Option(help: "Scenarios run at once, 1 to \(Self.parallelLimit) (default: one per core).")
    var parallel: Int?

    @Option(help: "Run only part K of N of the campaign (for example 2/8; N at most --scenarios); the parts together are the whole campaign.")
    var shard: String?

    @Option(help: """
        Replay one scenario (as a failure prints it: \(FuzzScenario.fields.map { "\($0)=N" }.joined(separator: ",")), \
        kinds being none or fault kinds joined by +) instead of a campaign, and print its trace.
        """)
    var scenario: String?

    @Flag(help: "In a campaign, also print the shrunk failure's trace (a replay always prints it).")
    var trace = false

    @Option(help: "Write the trace (replay) or the shrunk failures' traces (campaign) as JSON to this file ('-': standard output, the text then going to standard error).")
    var traceJson: String?

    @Option(help: "Where a campaign saves the traces of its failures (default: the system's temporary directory, under linx-fuzz).")
    var traceDir: String?

    @Option(help: "Write the campaign's results as JSON to this file, what `linx fuzz merge` reads ('-': standard output, the text then going to standard error).")
    var json: String?

    @Option(help: "Write the campaign's results as JUnit XML to this file ('-': standard output, the text then going to standard error).")
    var junit: String?

    /// Each running scenario holds a simulated kernel of its own.
    static let parallelLimit = 1024

    func validate() throws {
        if let scenarios, scenarios < 1 { throw ValidationError("--scenarios must be at least 1, not \(scenarios)") }
        guard FuzzScenario.passRange.contains(maxPasses) else {
            throw ValidationError(
                "--max-passes must be from \(FuzzScenario.passRange.lowerBound) to \(FuzzScenario.passRange.upperBound), not \(maxPasses)")
        }
        if let parallel, !(1...Self.parallelLimit).contains(parallel) {
            throw ValidationError(
                "--parallel must be from 1 to \(Self.parallelLimit), not \(parallel) (each running scenario holds its own simulated kernel)")
        }
        if let shard {
            do { try FuzzShard(parsing: shard).check(scenarios: scenarios ?? Self.defaultScenarios) } catch {
                throw ValidationError(error.description)
            }
            // Each part would draw a seed of its own: parts of different
            // campaigns, which the merge refuses only after they all ran.
            if seed == nil && scenario == nil {
                throw ValidationError("--shard \(shard) needs --seed: every part of a campaign must run the same seed")
            }
        }
        try FuzzOutput.validate(files: outputFiles, directories: outputDirectories)
        if let scenario {
            let parsed: FuzzScenario
            do { parsed = try FuzzScenario(parsing: scenario) } catch { throw ValidationError(error.description) }
            guard let source = source.sources.first, self.source != .all else {
                throw ValidationError("--scenario replays one Source: give --source")
            }
            do { try source.validate(parsed) } catch { throw ValidationError(error.description) }
            let campaignOnly = [
                ("--seed", seed != nil), ("--scenarios", scenarios != nil), ("--parallel", parallel != nil),
                ("--shard", shard != nil), ("--json", json != nil), ("--junit", junit != nil), ("--trace-dir", traceDir != nil),
            ].filter(\.1).map(\.0)
            guard campaignOnly.isEmpty else {
                throw ValidationError(
                    "\(FuzzOutput.list(campaignOnly)) \(campaignOnly.count == 1 ? "is" : "are") for campaigns, not for a --scenario "
                        + "replay (the scenario says everything the replay runs)")
            }
        }
    }

    /// The files asked for, by option.
    private var outputFiles: [(option: String, path: String)] {
        [("--json", json), ("--junit", junit), ("--trace-json", traceJson)].compactMap { option, path in
            path.map { (option, $0) }
        }
    }

    /// The directories asked for, by option.
    private var outputDirectories: [(option: String, path: String)] {
        traceDir.map { [("--trace-dir", $0)] } ?? []
    }

    func run() async throws {
        let output = try FuzzOutput(files: outputFiles, directories: outputDirectories)
        if let text = scenario {
            try await replay(try FuzzScenario(parsing: text), output)
            return
        }
        let seed: UInt64
        if let given = self.seed {
            seed = given
        } else {
            seed = UInt64.random(in: 1...UInt64(UInt32.max))
            printError("linx fuzz: campaign seed \(seed) (rerun this campaign with --seed \(seed))")
        }
        let shard = try self.shard.map { text throws(FuzzShardError) in try FuzzShard(parsing: text) } ?? .whole
        var summaries: [FuzzSummary] = []
        var traces: [FuzzTrace] = []
        for source in source.sources {
            let options = FuzzOptions(
                seed: seed, scenarios: scenarios ?? Self.defaultScenarios, maxPasses: maxPasses,
                parallelism: parallel ?? ProcessInfo.processInfo.activeProcessorCount, shard: shard)
            let bar = ProgressBar(label: "\(source.rawValue)/sim", enabled: isatty(STDERR_FILENO) == 1)
            let results = await source.fuzz(options: options) { done, total in bar.update(done, total) }
            bar.finish()
            var tracePath: String?
            if let trace = results.shrunk?.trace {
                traces.append(trace)
                tracePath = try save(trace, source: source, seed: seed, scenario: results.shrunk!.scenario)
            }
            let summary = FuzzSummary(
                results, replay: results.shrunk.map { replayCommand(source, $0.scenario) }, tracePath: tracePath)
            summaries.append(summary)
            output.say(FuzzReporter.render(summary))
            if trace, let shrunkTrace = results.shrunk?.trace { output.say(shrunkTrace.description + "\n") }
        }
        if let traceJson { try FuzzOutput.write(traces, json: traceJson) }
        if let json { try FuzzOutput.write(summaries, json: json) }
        if let junit { try FuzzOutput.write(FuzzJUnitReporter.render(summaries), to: junit) }
        if summaries.contains(where: { !$0.succeeded }) { throw ExitCode.failure }
    }

    private func replayCommand(_ source: BuiltinSource, _ scenario: FuzzScenario) -> String {
        "linx fuzz --source \(source.rawValue) --max-passes \(maxPasses) --scenario '\(scenario)'"
    }

    private func replay(_ scenario: FuzzScenario, _ output: FuzzOutput) async throws {
        guard let source = source.sources.first else { return }
        let outcome = await source.replay(scenario, maxPasses: maxPasses)
        if let traceJson, let trace = outcome.trace { try FuzzOutput.write(trace, json: traceJson) }
        let fired = outcome.fired.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")
        if let trace = outcome.trace { output.say(trace.description + "\n") }
        if let failure = outcome.failure {
            output.say("FAIL \(source.rawValue)/sim scenario \(scenario)\n\(failure)\nfaults fired: \(fired)\n")
            throw ExitCode.failure
        }
        output.say("pass \(source.rawValue)/sim scenario \(scenario): \(outcome.passes) passes; faults fired: \(fired)\n")
    }

    /// Saves a failure's trace as text and JSON; returns the text file's path.
    private func save(_ trace: FuzzTrace, source: BuiltinSource, seed: UInt64, scenario: FuzzScenario) throws -> String {
        let directory = traceDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("linx-fuzz").path
        let base = (directory as NSString).appendingPathComponent("\(source.rawValue)-campaign\(seed)-scenario\(scenario.seed)")
        try FuzzOutput.write(trace.description + "\n", to: base + ".trace.txt")
        try FuzzOutput.write(trace, json: base + ".trace.json")
        return base + ".trace.txt"
    }
}

/// `linx fuzz merge`: the parts of a sharded campaign, added up.
struct FuzzMergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the --json results of a campaign's shards into one summary.",
        discussion: """
            Reads every part's `linx fuzz --shard K/N --json FILE` output, checks they are parts of \
            one campaign (same seed, size and shard count, no shard twice) and that together they ran \
            exactly the campaign's scenarios, then prints the merged summary. Exits non-zero when a \
            shard is missing, when any scenario failed, or when a fault kind never fired.
            """)

    @Argument(help: "The parts' JSON result files.")
    var files: [String]

    @Option(help: "Write the merged results as JSON to this file ('-': standard output, the text then going to standard error).")
    var json: String?

    @Option(help: "Write the merged results as JUnit XML to this file ('-': standard output, the text then going to standard error).")
    var junit: String?

    /// The files asked for, by option.
    private var outputFiles: [(option: String, path: String)] {
        [("--json", json), ("--junit", junit)].compactMap { option, path in path.map { (option, $0) } }
    }

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give the parts' JSON result files") }
        try FuzzOutput.validate(files: outputFiles, directories: [])
    }

    func run() async throws {
        let output = try FuzzOutput(files: outputFiles, directories: [])
        var parts: [FuzzSummary] = []
        for file in files {
            let summaries = try FuzzResultFile.read(file)
            // Each file checked alone first, so a bad part is named by its file.
            do { _ = try FuzzSummary.merge(summaries) } catch { throw FuzzOutput.failure("\(file): \(error.description)") }
            parts += summaries
        }
        let merged: [FuzzSummary]
        do {
            merged = try FuzzSummary.merge(parts)
        } catch {
            throw FuzzOutput.failure(error.description)
        }
        var incomplete = false
        for summary in merged {
            output.say(FuzzReporter.render(summary))
            if !summary.isWholeCampaign {
                output.say("incomplete: \(summary.subject) \(summary.missingText)\n")
                incomplete = true
            }
        }
        if let json { try FuzzOutput.write(merged, json: json) }
        if let junit { try FuzzOutput.write(FuzzJUnitReporter.render(merged), to: junit) }
        if incomplete || merged.contains(where: { !$0.succeeded }) { throw ExitCode.failure }
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
