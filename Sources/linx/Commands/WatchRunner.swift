import Foundation
import LinxHost
import LinxReconcile
import Logging
import ServiceLifecycle

/// `linx apply --watch`: one ``ReconcileLoop`` per subsystem in a
/// `ServiceGroup`, until SIGINT or SIGTERM. Each pass is logged through a
/// swift-log `Logger` (a line of text, or with `--json` one JSON object per
/// line, its counts and failures as structured metadata), and the state file
/// is rewritten after every pass, so an interrupted watch never forgets what
/// it installed.
struct WatchRunner {
    let host: Host
    let document: HostDocument
    let stateFile: StateFile
    let interval: Double
    let json: Bool

    func run(from state: HostState) async throws {
        let recorder = StateRecorder(state: state, file: stateFile, host: host)
        let json = json
        var log = Logger(label: "linx.watch") { label in
            json ? JSONLinesLogHandler(label: label) as any LogHandler : StreamLogHandler.standardOutput(label: label)
        }
        log.logLevel = .info
        var loops = Loops(interval: interval, log: log)
        if let rtnl = document.rtnl {
            loops.add(
                RtnlSource(backend: host.backend), scope: host.scope, desired: rtnl.desired, options: rtnl.options,
                lastApplied: state.rtnl, label: "rtnl") { owned in await recorder.update { $0.rtnl = owned } }
        }
        if let sysctl = document.sysctl, let desired = sysctl.desired {
            loops.add(
                SysctlSource(backend: host.backend), scope: host.scope, desired: desired, options: sysctl.options,
                lastApplied: state.sysctl, label: "sysctl") { owned in await recorder.update { $0.sysctl = owned } }
        }
        for cgroup in document.cgroups {
            let path = cgroup.path
            loops.add(
                CgroupSource(backend: host.backend), scope: path, desired: cgroup.desired, options: .default,
                lastApplied: state.cgroups[path] ?? .empty, label: "cgroup \(path)"
            ) { owned in await recorder.update { $0.cgroups[path] = owned } }
        }
        // One Source for every table: its reconciler knows its own commits,
        // so one table's commit is not another writer's to the next table's
        // pass (the generation is namespace-wide).
        let nftables = NftablesSource(backend: host.backend)
        for table in document.nftables?.tables ?? [] {
            let key = table.ref.description
            loops.add(
                nftables, scope: NftScope(host.scope, table: table.ref), desired: table.desired,
                options: document.nftables?.options ?? .default, lastApplied: state.owned.nftables[key] ?? .empty,
                label: "nftables \(key)"
            ) { owned in await recorder.update { $0.owned.nftables[key] = owned } }
        }
        let (services, watchers) = (loops.services, loops.watchers)
        var logger = Logger(label: "linx")
        logger.logLevel = .notice
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        log.notice("watching; SIGINT or SIGTERM stops", metadata: ["sections": .array(document.sectionNames.map { .string($0) })])
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for watcher in watchers { tasks.addTask(operation: watcher) }
            tasks.addTask { try await group.run() }
            try await tasks.waitForAll()
        }
    }

    /// The loops of one watch, each with the task that reports its events.
    private struct Loops {
        let interval: Double
        let log: Logger
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
            watchers.append(WatchRunner.watch(loop.events, label, log: log, record: record))
        }
    }

    /// Logs one entry per loop event and hands each report's ownership on.
    private static func watch<Item: CustomStringConvertible, LastApplied: Sendable>(
        _ events: ReconcileLoopEvents<Item, LastApplied>, _ section: String, log: Logger,
        record: @escaping @Sendable (LastApplied) async -> Void
    ) -> @Sendable () async -> Void {
        {
            var log = log
            log[metadataKey: "section"] = .string(section)
            for await event in events {
                switch event {
                case .report(let report):
                    await record(report.lastApplied)
                    let metadata: Logger.Metadata = [
                        "applied": .stringConvertible(report.applied.count),
                        "failed": .array(report.failed.map { .string("\($0.op): \($0.error)") }),
                        "pending": .stringConvertible(report.pending.count),
                        "converged": .stringConvertible(report.converged),
                    ]
                    if report.converged {
                        log.info("pass converged", metadata: metadata)
                    } else {
                        log.warning("pass did not converge", metadata: metadata)
                    }
                case .error(let error):
                    log.error("pass could not run", metadata: ["error": .string("\(error)")])
                case .monitorLost(let error):
                    log.warning("monitor lost; resyncing", metadata: error.map { ["error": .string("\($0)")] } ?? [:])
                case .monitorResubscribed:
                    log.notice("monitor back")
                }
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
