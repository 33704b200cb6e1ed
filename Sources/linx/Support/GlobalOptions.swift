import ArgumentParser
import Foundation
import LinxReconcile

/// Which namespace a command acts in. At most one may be given.
struct ScopeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Act in the network namespace NAME (/run/netns/NAME).", valueName: "name"))
    var netns: String?

    @Option(help: ArgumentHelp("Act in the network namespace bound at PATH.", valueName: "path"))
    var netnsPath: String?

    @Option(help: ArgumentHelp("Act in the network namespace of process PID.", valueName: "pid"))
    var pid: Int32?

    func validate() throws {
        if [netns != nil, netnsPath != nil, pid != nil].filter({ $0 }).count > 1 {
            throw ValidationError("give at most one of --netns, --netns-path and --pid")
        }
        if let netns, netns.isEmpty || netns.contains("/") {
            throw ValidationError("--netns takes a name as `ip netns add` made it, without '/'")
        }
    }

    var scope: NetnsScope {
        if let netns { return .named(netns) }
        if let netnsPath { return .path(netnsPath) }
        if let pid { return .pid(pid) }
        return .current
    }

    /// A file-name-safe name for the scope, for the default state file.
    var slug: String {
        if let netns { return "netns-\(netns)" }
        if let netnsPath { return "path" + netnsPath.map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined() }
        if let pid { return "pid-\(pid)" }
        return "host"
    }
}

/// Which kernel a command talks to.
struct BackendOptions: ParsableArguments {
    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case kernel, sim
    }

    @Option(help: "The kernel to act on: the real one, or a simulated host (no root needed).")
    var backend: Kind = .kernel

    @Option(
        help: ArgumentHelp(
            "With --backend sim: a file holding the simulated host, created on first use, so it persists between runs. Without it the simulated host, and what linx owns in it, last only for this command.",
            valueName: "file"))
    var simState: String?

    func validate() throws {
        if simState != nil && backend != .sim {
            throw ValidationError("--sim-state needs --backend sim")
        }
    }
}

/// Where ownership (lastApplied) is kept between runs.
struct StateOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The state file that records what linx installed in this scope (default: /var/lib/linx/SCOPE.json, or beside --sim-state; none for a simulated host without --sim-state).",
            valueName: "file"))
    var state: String?
}
