import ArgumentParser
import Foundation
import LinxHost
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
            for deletion. A section absent from FILE is not managed and never planned; \
            nor is a kind absent from a section (rtnl `addresses` or `routes`, \
            sysctl `keys`): write `routes: []` to manage routes as none. The plan \
            names the kinds a partial rtnl section manages.

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
            let document = try HostDocument.load(path: file)
            let host = try await Host.open(backend, scope, needsRoot: false)
            let stateFile = host.stateFile(at: stateOptions.state)
            let (owned, warning) = try stateFile.load()
            let plan = try await HostReconciler(backend: host.backend, scope: host.scope)
                .plan(document, lastApplied: owned.owned)
            // A plan warns only about a corrupt file: no file yet is the normal first run.
            if let warning, stateFile.exists { printError("warning: \(warning)") }
            if json { try printJSON(plan) } else { print(outcomes: SectionOutcome.outcomes(of: plan)) }
            if plan.changeCount > 0 { throw ExitCode(2) }
        }
    }
}
