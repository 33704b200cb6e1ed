// Times Linx on the real kernel in an existing namespace (made by
// bench-routes.sh): a cold reconcile pass creating COUNT routes, a no-op
// pass over them (five in a row per repetition), and the backend's
// pipelined execute alone. Prints one line per measurement: `name seconds`
// (median of the repetitions).
import BenchSupport
import Glibc
import LinxLinux
import LinxReconcile

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: KernelBench NETNS [COUNT] [REPEATS]")
    exit(2)
}
let scope = NetnsScope.named(arguments[1])
let count = arguments.count > 2 ? Int(arguments[2])! : 10_000
let repeats = arguments.count > 3 ? Int(arguments[3])! : 5
/// No-op passes timed per repetition.
let noopRuns = 5

/// 10.A.B.C/32 via 10.0.0.1, the same routes bench-routes.sh gives `ip -batch`.
func destination(_ i: Int) -> String { "10.\(100 + i / 62500).\(i / 250 % 250).\(i % 250 + 1)/32" }

let desired = RtnlDesiredState((0..<count).map { .route(to: destination($0), via: "10.0.0.1") })
let kernel = LinuxKernel()
let reconciler = RtnlReconciler(backend: kernel)
let clock = ContinuousClock()

var cold: [Double] = [], noop: [Double] = [], execute: [Double] = [], release: [Double] = []
for _ in 0..<repeats {
    var lastApplied = RtnlLastApplied.empty
    let coldTime = try await clock.measure {
        let report = try await reconciler.reconcile(in: scope, desired: desired)
        guard report.converged, report.applied.count == count else { fail("cold pass: \(report.failed.prefix(3))") }
        lastApplied = report.lastApplied
    }
    cold.append(seconds(coldTime))
    // A steady state is consecutive no-op passes (what a loop does); time
    // several, the first one right after the cold pass included.
    for _ in 0..<noopRuns {
        let noopTime = try await clock.measure {
            let report = try await reconciler.reconcile(in: scope, desired: desired, lastApplied: lastApplied)
            guard report.converged, report.planned.isEmpty else { fail("no-op pass planned \(report.planned.count) ops") }
        }
        noop.append(seconds(noopTime))
    }
    let releaseTime = try await clock.measure {
        let report = try await reconciler.reconcile(in: scope, desired: .empty, lastApplied: lastApplied)
        guard report.converged, report.applied.count == count else { fail("release pass: \(report.failed.prefix(3))") }
    }
    release.append(seconds(releaseTime))

    // The backend alone: the pipelined adds, no observe or diff.
    let routes = (0..<count).map {
        Route(destination: try! IPPrefix(destination($0)), gateway: try! IPAddress("10.0.0.1"))
    }
    let executeTime = await clock.measure {
        let results = await kernel.execute(routes.map(RtnlRequest.addRoute), in: scope, stopOnError: true)
        guard results.count == count, results.allSatisfy({ if case .success = $0 { true } else { false } }) else {
            fail("execute: \(results.count) results")
        }
    }
    execute.append(seconds(executeTime))
    let cleanup = await kernel.execute(routes.map(RtnlRequest.deleteRoute), in: scope, stopOnError: false)
    guard cleanup.count == count else { fail("cleanup") }
}
// Where a no-op pass goes: the route dump alone, and the planning alone.
var dump: [Double] = [], planning: [Double] = [], resolving: [Double] = []
do {
    let report = try await reconciler.reconcile(in: scope, desired: desired)
    for _ in 0..<repeats {
        dump.append(seconds(try await clock.measure {
            _ = try await kernel.routes(in: scope, matching: RouteFilter(proto: RouteProtocol.linx))
        }))
        let observed = try await reconciler.observe(in: scope)
        var resolved: RtnlResolvedState?
        resolving.append(seconds(try clock.measure {
            resolved = try RtnlNormalizer.resolve(desired, links: observed.links, options: .default)
        }))
        planning.append(seconds(clock.measure {
            _ = RtnlReconciler.plan(observed: observed, desired: resolved!, lastApplied: report.lastApplied)
        }))
    }
    _ = try await reconciler.reconcile(in: scope, desired: .empty, lastApplied: report.lastApplied)
}
print("linx_route_dump \(median(dump))")
print("linx_resolve \(median(resolving))")
print("linx_diff \(median(planning))")
print("linx_cold_pass \(median(cold))")
print("linx_noop_pass \(median(noop))")
print("linx_release_pass \(median(release))")
print("linx_execute_adds \(median(execute))")
