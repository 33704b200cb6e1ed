// Times Linx's nf_tables reconciler on the real kernel in an existing
// namespace (made by bench-nft.sh): a cold reconcile pass creating the
// table `inet linx` with COUNT rules in one chain (a new reconciler each
// time, so the desired table is validated afresh), then no-op passes over
// it (five in a row per repetition, the loop's steady state), then the
// release. Prints one line per measurement: `name seconds` (median).
import Glibc
import LinxLinux
import LinxReconcile

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: NftBench NETNS [COUNT] [REPEATS]")
    exit(2)
}
let scope = NftScope(.named(arguments[1]), table: NftTableRef(.inet, "linx"))
let count = arguments.count > 2 ? Int(arguments[2])! : 10_000
let repeats = arguments.count > 3 ? Int(arguments[3])! : 5
let noopRuns = 5

/// The rules bench-nft.sh gives `nft -f`, line for line.
func rule(_ i: Int) -> String { "ip saddr 10.\(100 + i / 62500).\(i / 250 % 250).\(i % 250 + 1) tcp dport \(1024 + i % 50000) accept" }

let desired = NftTable(chains: [NftChain("input", base: NftBaseChain(type: .filter, hook: .input), rules: (0..<count).map(rule))])
let kernel = LinuxKernel()
let clock = ContinuousClock()

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func fail(_ message: String) -> Never {
    print("error: \(message)")
    exit(1)
}

var cold: [Double] = [], noop: [Double] = [], release: [Double] = []
for _ in 0..<repeats {
    let reconciler = NftablesReconciler(backend: kernel)
    let coldTime = try await clock.measure {
        let report = try await reconciler.reconcile(in: scope, desired: desired)
        guard report.converged, report.applied.count == count + 2 else { fail("cold pass: \(report.failed.prefix(3))") }
    }
    cold.append(seconds(coldTime))
    for _ in 0..<noopRuns {
        let noopTime = try await clock.measure {
            let report = try await reconciler.reconcile(in: scope, desired: desired)
            guard report.converged, report.planned.isEmpty else { fail("no-op pass planned \(report.planned.count) ops: \(report.planned.prefix(3))") }
        }
        noop.append(seconds(noopTime))
    }
    let releaseTime = try await clock.measure {
        let report = try await reconciler.reconcile(in: scope, desired: nil)
        guard report.converged, report.applied.count == 1 else { fail("release pass: \(report.failed.prefix(3))") }
    }
    release.append(seconds(releaseTime))
}
// Where a cold pass goes: validating alone (a fresh reconciler's plan of a
// table that does not exist: the scratch-table check plus one observation).
var validate: [Double] = []
for _ in 0..<repeats {
    let reconciler = NftablesReconciler(backend: kernel)
    validate.append(seconds(try await clock.measure { _ = try await reconciler.plan(in: scope, desired: desired) }))
}
print("linx_cold_pass \(median(cold))")
print("linx_noop_pass \(median(noop))")
print("linx_release_pass \(median(release))")
print("linx_plan_validating \(median(validate))")
