// A node agent: one ServiceGroup running two ReconcileLoops on a pod's named
// network namespace (addresses and routes through rtnetlink, woken by its
// monitor; sysctls on a timer) plus a Service that consumes the loops'
// events. Compiled with the package, so the README's example cannot rot.
//
//   swift run NodeAgentExample          # runs until SIGINT / SIGTERM
//   swift run NodeAgentExample --once   # one pass of each loop, then exits
import LinxKernelSim
import LinxReconcile
import Logging
import ServiceLifecycle

/// Logs what the loops report, until graceful shutdown. Listed anywhere in
/// the group: `events(until: .gracefulShutdown)` ends on this service's own
/// shutdown, never early because a loop finished first.
struct LoopEventLog: Service {
    let network: ContinuousReconcileLoop<RtnlSource>.Events
    let sysctls: ContinuousReconcileLoop<SysctlSource>.Events
    let logger: Logger

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { [network, logger] in
                for await event in network { log(event, "pod-network", logger) }
            }
            group.addTask { [sysctls, logger] in
                for await event in sysctls { log(event, "pod-sysctls", logger) }
            }
        }
        logger.info("event log stopped")
    }
}

private func log<Item, LastApplied>(_ event: ReconcileLoopEvent<Item, LastApplied>, _ loop: String, _ logger: Logger) {
    switch event {
    case .report(let report):
        logger.info("\(loop): converged=\(report.converged), applied \(report.applied.count) ops")
    case .error(let error):
        logger.error("\(loop): pass failed: \(error)")
    case .monitorLost(let error):
        logger.warning("\(loop): monitor lost: \(error.map { "\($0)" } ?? "ended")")
    case .monitorResubscribed:
        logger.info("\(loop): monitor back")
    }
}

@main
struct NodeAgent {
    static func main() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "node-agent")

        // The kernel backend. The simulated kernel lets this example run
        // anywhere, without root. On a real node, use the real kernel:
        //
        //     import LinxLinux
        //     let kernel = LinuxKernel()
        //
        // (and drop the namespace set-up below: the runtime made the pod's).
        let kernel = SimKernel()
        let pod = NetnsScope.named("pod1")  // /run/netns/pod1, as `ip netns add pod1` makes it
        try kernel.createNamespace(pod)
        try kernel.addLink("eth0", in: pod)

        // The pod's network: owned routes carry rtm_protocol 76; addresses are
        // owned through lastApplied. Monitor hints heal drift within the
        // debounce (100 ms); with `.never` there is no timer while the monitor
        // listens. A namespace deleted and re-created under the same name is
        // followed: the monitor moves to the new one and the loop resyncs.
        let network = ReconcileLoop(
            source: RtnlSource(backend: kernel),
            scope: pod,
            desired: [
                .address("10.0.0.2/24", on: "eth0"),
                .defaultRoute(via: "10.0.0.1"),
                .route(to: "10.50.0.0/16", via: "10.0.0.254"),
            ],
            options: RtnlOptions(),
            lastApplied: .empty,
            configuration: ReconcileLoopConfiguration(interval: .never, label: "pod-network"))

        // The pod's sysctls: procfs has no change notification, so this loop
        // runs on its timer (default 5 s). Released keys get their original value back.
        let sysctls = ReconcileLoop(
            source: SysctlSource(backend: kernel),
            scope: pod,
            desired: ["net.ipv4.ip_forward": 1, "net.ipv4.conf.all.rp_filter": 2],
            options: SysctlOptions(revertOnRelease: true),
            lastApplied: .empty,
            configuration: ReconcileLoopConfiguration(label: "pod-sysctls"))

        if CommandLine.arguments.contains("--once") {
            let routes = try await network.reconcileNow()
            let settings = try await sysctls.reconcileNow()
            print("pod-network: converged=\(routes.converged), applied \(routes.applied.count) ops")
            print("pod-sysctls: converged=\(settings.converged), applied \(settings.applied.count) ops")
            return
        }

        // Obtained once, before the group runs, so the first passes are seen.
        let events = LoopEventLog(
            network: network.events(until: .gracefulShutdown),
            sysctls: sysctls.events(until: .gracefulShutdown), logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [network, sysctls, events],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        logger.info("node agent stopped")
    }
}
