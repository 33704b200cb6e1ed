// Times Linx's nf_tables reconciler on the real kernel against `nft`, in an
// existing namespace (made by bench-nft.sh), for the table `inet linx` with
// COUNT rules in one chain (FILE: the same table as `nft -f` input).
//
// Each repetition interleaves every reference run with the Linx pass it is
// compared with, so both see the same machine load:
// - `nft -f FILE` creating the table, then a cold Linx reconcile pass
//   creating it (a new reconciler: validation, observe, diff, one
//   transaction);
// - five times `nft list table inet linx`, each followed by a Linx pass
//   that finds nothing to do (observe + diff);
// - the Linx release pass (deletes the table);
// - `nft -c -f FILE` (nft's dry run: parsed, evaluated and checked by the
//   kernel, not committed) and a Linx plan of the absent table from a new
//   reconciler (validation + observe + diff, nothing committed).
// nft's figures include starting the process; Linx's are timed inside one
// process (libnftables, the same parser and printer nft uses). Prints
// `name seconds` (medians), then the ratios.
import BenchSupport
import Glibc
import LinxLinux
import LinxReconcile

let arguments = CommandLine.arguments
guard arguments.count >= 5 else {
    print("usage: NftBench NETNS COUNT REPEATS FILE")
    exit(2)
}
let netns = arguments[1]
let scope = NftScope(.named(netns), table: NftTableRef(.inet, "linx"))
let count = Int(arguments[2])!
let repeats = Int(arguments[3])!
let file = arguments[4]
let noopRuns = 5
let nft = ["ip", "netns", "exec", netns, "nft"]

/// The rules bench-nft.sh writes into FILE, line for line.
func rule(_ i: Int) -> String { "ip saddr 10.\(100 + i / 62500).\(i / 250 % 250).\(i % 250 + 1) tcp dport \(1024 + i % 50000) accept" }

let desired = NftTable(chains: [NftChain("input", base: NftBaseChain(type: .filter, hook: .input), rules: (0..<count).map(rule))])
let kernel = LinuxKernel()
let clock = ContinuousClock()

var nftF: [Double] = [], nftList: [Double] = [], nftCheck: [Double] = []
var cold: [Double] = [], noop: [Double] = [], release: [Double] = [], plan: [Double] = []
for _ in 0..<repeats {
    nftF.append(timeReference(nft + ["-f", file]))
    let made = try await NftablesReconciler(backend: kernel).observe(in: scope)
    guard made.table?.chains.first?.rules.count == count else { fail("nft -f did not add \(count) rules") }
    _ = timeReference(nft + ["delete", "table", "inet", "linx"])

    let reconciler = NftablesReconciler(backend: kernel)
    cold.append(seconds(try await clock.measure {
        let report = try await reconciler.reconcile(in: scope, desired: desired)
        guard report.converged, report.applied.count == count + 2 else { fail("cold pass: \(report.failed.prefix(3))") }
    }))
    for _ in 0..<noopRuns {
        nftList.append(timeReference(nft + ["list", "table", "inet", "linx"]))
        noop.append(seconds(try await clock.measure {
            let report = try await reconciler.reconcile(in: scope, desired: desired)
            guard report.converged, report.planned.isEmpty else { fail("no-op pass planned \(report.planned.count) ops: \(report.planned.prefix(3))") }
        }))
    }
    release.append(seconds(try await clock.measure {
        let report = try await reconciler.reconcile(in: scope, desired: nil)
        guard report.converged, report.applied.count == 1 else { fail("release pass: \(report.failed.prefix(3))") }
    }))

    nftCheck.append(timeReference(nft + ["-c", "-f", file]))
    let planner = NftablesReconciler(backend: kernel)
    plan.append(seconds(try await clock.measure {
        let planned = try await planner.plan(in: scope, desired: desired)
        guard planned.ops.count == count + 2 else { fail("plan of the absent table has \(planned.ops.count) ops") }
    }))
}
for (name, values) in [
    ("nft_f", nftF), ("linx_cold_pass", cold), ("nft_list", nftList), ("linx_noop_pass", noop),
    ("linx_release_pass", release), ("nft_check", nftCheck), ("linx_plan", plan),
] {
    print(name, median(values))
}
print("""
    cold:  linx \(median(cold)) s = \(ratio(median(cold), median(nftF))) nft -f (goal <= 1.0x)
    no-op: linx \(median(noop)) s = \(ratio(median(noop), median(nftList))) nft list table (goal <= 2x)
    plan:  linx \(median(plan)) s = \(ratio(median(plan), median(nftF))) nft -f, \(ratio(median(plan), median(nftCheck))) nft -c -f
    """)
