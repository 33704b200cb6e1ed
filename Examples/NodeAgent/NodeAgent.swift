// A node agent: one ServiceGroup running two ReconcileLoops, one keeping the
// host's addresses and routes converged (rtnetlink, woken by its monitor), one
// keeping its sysctls converged (timer only). Compiled with the package, so
// the README's example cannot rot.
//
//   swift run NodeAgentExample          # runs until SIGINT / SIGTERM
//   swift run NodeAgentExample --once   # one pass of each loop, then exits
import LinxKernelSim
import LinxReconcile
import Logging
import ServiceLifecycle

@main
struct NodeAgent {
    static func main() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "node-agent")

        // The kernel backend. The simulated kernel lets this example run
        // anywhere, without root. On a real node, swap in the real kernel:
        //
        //     import LinxLinux
        //     let kernel = LinuxKernel()
        //
        // (and drop the `addLink` below: a real node has its own NICs).
        let kernel = SimKernel()
        try kernel.addLink("eth0")

        // Host network: owned routes carry rtm_protocol 76; addresses are
        // owned through lastApplied. Monitor hints heal drift within the
        // debounce (100 ms); the 30 s timer is the safety net.
        let network = ReconcileLoop(
            source: RtnlSource(backend: kernel),
            scope: .current,
            desired: [
                .address("10.0.0.2/24", on: "eth0"),
                .defaultRoute(via: "10.0.0.1"),
                .route(to: "10.50.0.0/16", via: "10.0.0.254"),
            ],
            options: RtnlOptions(),
            lastApplied: .empty,
            configuration: ReconcileLoopConfiguration(
                interval: .every(.seconds(30)), label: "host-network", logger: logger))

        // Host sysctls: procfs has no change notification, so this loop runs
        // on its timer (default 5 s). Released keys get their original value back.
        let sysctls = ReconcileLoop(
            source: SysctlSource(backend: kernel),
            scope: .current,
            desired: ["net.ipv4.ip_forward": 1, "net.ipv4.conf.all.rp_filter": 2],
            options: SysctlOptions(revertOnRelease: true),
            lastApplied: .empty,
            configuration: ReconcileLoopConfiguration(label: "host-sysctls", logger: logger))

        if CommandLine.arguments.contains("--once") {
            let routes = try await network.reconcileNow()
            let settings = try await sysctls.reconcileNow()
            print("host-network: converged=\(routes.converged), applied \(routes.applied.count) ops")
            print("host-sysctls: converged=\(settings.converged), applied \(settings.applied.count) ops")
            return
        }

        // Owner notifications: here just logged; an agent might export
        // readiness or alert on repeated errors.
        let reports = Task {
            for await event in network.events {
                if case .error(let error) = event { logger.error("host-network pass failed: \(error)") }
            }
        }
        defer { reports.cancel() }

        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [network, sysctls],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}
