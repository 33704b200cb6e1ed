import ArgumentParser
import Foundation
import LinxHost
import LinxReconcile

/// `linx apply FILE`: one pass per subsystem, or a loop per subsystem with --watch.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Converge the kernel on a desired-state file.",
        discussion: """
            Validates the whole FILE and plans every section against the kernel \
            before applying any, so an invalid entry changes nothing. Then runs one \
            pass per subsystem (rtnl in the chosen namespace, sysctl in it, each \
            cgroup) and prints what was applied, what failed and what is pending.

            Ownership: routes are owned by their protocol tag (default 76). \
            Addresses, sysctls and cgroup files are owned by what linx installed, \
            recorded in the state file (default /var/lib/linx/SCOPE.json), written \
            atomically after every pass. A missing or corrupt state file means linx \
            owns nothing: nothing is deleted, and a warning says so. The state file \
            records its scope (backend and network namespace) and is refused for \
            another. A section absent from FILE is not managed: its objects are left \
            as they are; so is a kind absent from a section (an rtnl section without \
            `routes` deletes no route; `routes: []` deletes every route linx owns).

            An apply locks the state file (FILE.lock) until it exits; a second apply \
            on the same state file fails at once, naming the holder.

            An nftables table with `lifetime: owned` belongs to linx's socket: the \
            kernel removes it when this command exits, so a one-shot apply of one \
            leaves nothing (it warns); use --watch. A simulated host (--sim-state) \
            does the same: the next run finds the table gone (an ownedPersistent one \
            orphaned).

            With --watch, a reconcile loop per subsystem keeps the kernel converged \
            (a resync every --interval, and at once on an rtnl change event) until \
            SIGINT or SIGTERM.

            Exit status: 0 when converged, 1 on error or when a pass did not converge.
            """)

    @Argument(help: "The desired-state file (YAML or JSON).")
    var file: String

    @Flag(help: "Print the reports as JSON.")
    var json = false

    @Flag(help: "Keep converging until interrupted (SIGINT/SIGTERM).")
    var watch = false

    @Option(help: "With --watch: seconds between resyncs.")
    var interval: Double = 5

    @OptionGroup var scope: ScopeOptions
    @OptionGroup var backend: BackendOptions
    @OptionGroup var stateOptions: StateOptions

    /// A year: longer than any resync period anyone means.
    static let maximumInterval: Double = 365 * 24 * 3600

    func validate() throws {
        // Bounded both ways: a loop needs a positive period it can represent,
        // and `inf` or 1e-30 parse as Doubles.
        guard (0.001...Self.maximumInterval).contains(interval) else {
            throw ValidationError("--interval must be between 0.001 and \(Int(Self.maximumInterval)) seconds, got \(interval)")
        }
    }

    func run() async throws {
        try await runReportingErrors {
            let document = try HostDocument.load(path: file)
            let host = try await Host.open(backend, scope, needsRoot: true)
            let stateFile = host.stateFile(at: stateOptions.state)
            // Held until the command ends (with --watch, until it is stopped),
            // so no other apply reads this ownership while it changes.
            let lock = try stateFile.lock()
            defer {
                lock?.release()
                host.release()
            }
            let (loaded, warning) = try stateFile.load()
            var state = loaded
            // Plans every section, then applies them; a new nftables table is
            // committed first without a dry run (its commit is its check).
            let report = try await HostReconciler(backend: host.backend, scope: host.scope)
                .reconcile(document, lastApplied: state.owned)
            // Only once the file is known valid, so an error stays one line.
            if let warning { printError("warning: \(warning)") }
            // Shown before recording ownership, so that a state file that
            // cannot be written still leaves the operator knowing what changed.
            if json { try printJSON(report) } else { print(outcomes: SectionOutcome.outcomes(of: report)) }
            state.owned = report.lastApplied
            try stateFile.save(state)
            if watch {
                try host.finish()
                try await WatchRunner(host: host, document: document, stateFile: stateFile, interval: interval, json: json)
                    .run(from: state)
                try host.finish(exiting: true)
                return
            }
            if let nftables = document.nftables, nftables.options.lifetime == .owned,
                case let owned = nftables.tables.filter({ $0.desired != nil }), !owned.isEmpty
            {
                printError(
                    "warning: nftables lifetime owned: the kernel removes "
                        + owned.map { "table \($0.ref)" }.joined(separator: ", ")
                        + " when this apply exits (its socket owns them); keep them with --watch, or use lifetime persistent")
            }
            // The command ends: its nf_tables socket closes (owned tables go).
            try host.finish(exiting: true)
            if !report.converged { throw ExitCode.failure }
        }
    }
}
