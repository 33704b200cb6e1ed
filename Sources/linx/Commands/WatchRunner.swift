import Foundation
import LinxReconcile
import Logging
import ServiceLifecycle

/// `linx apply --watch`: one ``ReconcileLoop`` per subsystem in a
/// `ServiceGroup`, until SIGINT or SIGTERM. Each pass is logged as one line
/// and the state file is rewritten after every pass, so an interrupted watch
/// never forgets what it installed.
struct WatchRunner {
    let host: Host
    let document: HostDocument
    let stateFile: StateFile
    let interval: Double

    func run(from state: HostState) async throws {
        let recorder = StateRecorder(state: state, file: stateFile, host: host)
        var loops = Loops(interval: interval)
        if let rtnl = document.rtnl {
            loops.add(
                RtnlSource(backend: host.backend), scope: host.scope, desired: rtnl.desired, options: rtnl.options,
                lastApplied: state.rtnl, label: "rtnl") { owned in await recorder.update { $0.rtnl = owned } }
        }
        if let sysctl = document.sysctl {
            loops.add(
                SysctlSource(backend: host.backend), scope: host.scope, desired: sysctl.desired, options: sysctl.options,
                lastApplied: state.sysctl, label: "sysctl") { owned in await recorder.update { $0.sysctl = owned } }
        }
        for cgroup in document.cgroups {
            let path = cgroup.path
            loops.add(
                CgroupSource(backend: host.backend), scope: path, desired: cgroup.desired, options: .default,
                lastApplied: state.cgroups[path] ?? .empty, label: "cgroup \(path)"
            ) { owned in await recorder.update { $0.cgroups[path] = owned } }
        }
        let (services, watchers) = (loops.services, loops.watchers)
        var logger = Logger(label: "linx")
        logger.logLevel = .notice
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        printError("watching \(document.sectionNames.joined(separator: ", ")); SIGINT or SIGTERM stops")
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for watcher in watchers { tasks.addTask(operation: watcher) }
            tasks.addTask { try await group.run() }
            try await tasks.waitForAll()
        }
    }

    /// The loops of one watch, each with the task that reports its events.
    private struct Loops {
        let interval: Double
        var services: [any Service] = []
        var watchers: [@Sendable () async -> Void] = []

        /// Adds a loop over `source`; `record` receives the ownership of every report.
        mutating func add<Source: ReconcileSource>(
            _ source: Source, scope: Source.Scope, desired: Source.Desired, options: Source.Options,
            lastApplied: Source.LastApplied, label: String,
            record: @escaping @Sendable (Source.LastApplied) async -> Void
        ) where Source.Item: CustomStringConvertible {
            let loop = ReconcileLoop(
                source: source, scope: scope, desired: desired, options: options, lastApplied: lastApplied,
                configuration: ReconcileLoopConfiguration(interval: .every(.seconds(interval)), label: label))
            services.append(loop)
            // Subscribed now, before the loop runs, so the first pass is seen.
            watchers.append(WatchRunner.watch(loop.events, label, record: record))
        }
    }

    /// Prints one line per loop event and hands each report's ownership on.
    private static func watch<Item: CustomStringConvertible, LastApplied: Sendable>(
        _ events: ReconcileLoopEvents<Item, LastApplied>, _ section: String,
        record: @escaping @Sendable (LastApplied) async -> Void
    ) -> @Sendable () async -> Void {
        {
            for await event in events {
                let stamp = ISO8601DateFormatter().string(from: Date())
                switch event {
                case .report(let report):
                    await record(report.lastApplied)
                    let status = report.converged ? "converged" : "NOT converged"
                    print("\(stamp) \(section): \(report.applied.count) applied, \(report.failed.count) failed, \(report.pending.count) pending, \(status)")
                    for failed in report.failed { print("  failed: \(failed.op): \(failed.error)") }
                case .error(let error): print("\(stamp) \(section): pass could not run: \(error)")
                case .monitorLost(let error): print("\(stamp) \(section): monitor lost\(error.map { ": \($0)" } ?? ""); resyncing")
                case .monitorResubscribed: print("\(stamp) \(section): monitor back")
                }
                fflush(nil)
            }
        }
    }
}

/// Serialises state-file writes from several loops.
actor StateRecorder {
    private var state: HostState
    private let file: StateFile
    private let host: Host

    init(state: HostState, file: StateFile, host: Host) {
        self.state = state
        self.file = file
        self.host = host
    }

    /// Applies `change` and rewrites the state file if the state changed.
    func update(_ change: (inout HostState) -> Void) {
        let before = state
        change(&state)
        guard state != before else { return }
        do {
            try file.save(state)
            try host.finish()
        } catch {
            printError("linx: \(error)")
        }
    }
}
