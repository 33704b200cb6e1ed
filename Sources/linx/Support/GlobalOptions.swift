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
    ///
    /// One namespace, one name, and never one name for two: the state file
    /// holds ownership, so two scopes sharing it would let one scope's
    /// release delete what the other's kernel holds. `--netns NAME` and
    /// `--netns-path /run/netns/NAME` are the same namespace; any other path
    /// keeps letters and digits and escapes every other byte as `_xx`, so
    /// `/a-b` and `/a/b` stay apart. A pid is named by its namespace's inode,
    /// not its number: pids are reused, and a container started later under
    /// the same pid must not inherit the first one's ownership.
    var slug: String {
        switch scope {
        case .current:
            return "host"
        case .pid(let pid):
            var info = stat()
            guard stat("/proc/\(pid)/ns/net", &info) == 0 else { return "pid-\(pid)" }
            return "netns-inode-\(info.st_ino)"
        case .path(let path):
            let named = path.dropFirst("/run/netns/".count)
            if path.hasPrefix("/run/netns/"), !named.isEmpty, !named.contains("/") { return "netns-\(named)" }
            return "path" + path.utf8.map { byte in
                let plain = (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                return plain ? String(UnicodeScalar(byte)) : String(format: "_%02x", byte)
            }.joined()
        }
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

