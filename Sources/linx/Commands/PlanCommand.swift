import ArgumentParser
import Foundation
import LinxReconcile

/// `linx plan FILE`: what a pass would change, changing nothing.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show the changes `linx apply` would make, without making them.",
        discussion: """
            Reads the desired-state FILE (YAML or JSON), observes the kernel, and prints \
            the ops one pass would apply, per subsystem: `+` create, `~` update \
            (old -> new), `-` delete. Every section is validated before anything is \
            printed; an invalid entry is reported as FILE:LINE: entry: reason.

            Ownership comes from the state file (see `linx apply --help`): only objects \
            linx installed (or, for routes, tagged with its protocol) are ever planned \
            for deletion. A section absent from FILE is not managed and never planned.

            Exit status: 0 when nothing would change, 2 when something would, 1 on error \
            (like `terraform plan -detailed-exitcode`).
            """)

    @Argument(help: "The desired-state file (YAML or JSON).")
    var file: String

    @Flag(help: "Print the plan as JSON.")
    var json = false

    @OptionGroup var scope: ScopeOptions
    @OptionGroup var backend: BackendOptions
    @OptionGroup var stateOptions: StateOptions

    func run() async throws {
        try await runReportingErrors {
            let document = try DocumentParser.load(path: file)
            let host = try await Host.open(backend, scope, needsRoot: false)
            let statePath = stateOptions.state ?? host.defaultStatePath
            let (owned, warning) = StateFile(path: statePath).load(HostState.self)
            let plans = try await HostReconciler(host: host, document: document).plan(owned: owned ?? HostState())
            if let warning, FileManager.default.fileExists(atPath: statePath) { printError("warning: \(warning)") }
            try print(outcomes: plans.outcomes, json: json)
            if plans.changeCount > 0 { throw ExitCode(2) }
        }
    }
}

/// Prints section outcomes for a human (coloured on a terminal) or as JSON.
func print(outcomes: [SectionOutcome], json: Bool) throws {
    if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(outcomes), as: UTF8.self))
    } else {
        for outcome in outcomes { outcome.render(.standardOutput).forEach { print($0) } }
    }
}

/// Runs a command body, turning library and command errors into one line on
/// standard error and exit status 1; exit codes pass through.
func runReportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch let error as CommandError {
        printError("linx: \(error)")
        throw ExitCode.failure
    } catch let error as DocumentError {
        printError("linx: \(error)")
        throw ExitCode.failure
    } catch let error as ReconcileError {
        printError("linx: \(error)")
        throw ExitCode.failure
    } catch let error as KernelError {
        printError("linx: kernel refused: \(error)")
        throw ExitCode.failure
    }
}
