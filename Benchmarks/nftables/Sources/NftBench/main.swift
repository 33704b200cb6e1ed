// Times Linx's nf_tables reconciler on the real kernel against `nft`, in an
// existing namespace (made by bench-nft.sh), for the table `inet linx` with
// COUNT rules in one chain (FILE: the same table as `nft -f` input, marker
// comment included, so both leave the same table in the kernel).
//
// Each repetition interleaves every reference run with the Linx pass it is
// compared with, so both see the same machine load:
// - five cold pairs: `nft -f FILE` creating the table and a cold Linx
//   reconcile pass creating it (a new reconciler: validation, observe, diff,
//   one transaction, the report), in alternating order (the first of a
//   pair never always goes to the same side); each run is followed by
//   `nft delete table`, so every cold run starts from the same kernel;
// - five times `nft list table inet linx`, each followed by a Linx pass
//   that finds nothing to do (observe + diff), on a table the reconciler
//   created (untimed);
// - the Linx release pass (deletes the table);
// - `nft -c -f FILE` (nft's dry run: parsed, evaluated and checked by the
//   kernel, not committed) and a Linx plan of the absent table from a new
//   reconciler (validation + observe + diff + the same dry run).
// nft's figures include starting the process (spawned inside the
// namespace, without `ip netns exec`); Linx's are timed inside one process
// (libnftables, the same parser and printer nft uses). Every run is sampled
// for wall time, CPU time (user + system), the time its threads waited for
// a CPU other processes held (run queue), the rest (idle: sleeping) and
// minor page faults; prints `name median [min-max]` per measure, then the
// ratios: of the medians, and the median [min-max] of the per-pair ratios
// (each Linx run over the reference run next to it), for wall time, CPU,
// and wall time without the run-queue wait (what a pair takes on a machine
// nobody else uses).
//
// With SETFILE (the table `inet linx` holding only set `s` of COUNT IPv4
// addresses, as `nft -f` input), five more cold pairs per repetition:
// `nft -f SETFILE` against a cold Linx pass creating that table, printed
// as their own row (`set cold`), beside the rules' row.
//
// `NftBench NETNS COUNT REPEATS FILE [SETFILE] --cold-only` runs only the
// cold pairs (of the rules, then of the set when SETFILE is given) and
// prints every sample (`name wall user system faults runqueue idle`): for a
// profiler.
import BenchSupport
import Glibc
import LinxLinux
import LinxReconcile

let arguments = CommandLine.arguments
guard arguments.count >= 5 else {
    print("usage: NftBench NETNS COUNT REPEATS FILE [SETFILE] [--cold-only]")
    exit(2)
}
let coldOnly = arguments.dropFirst(5).contains("--cold-only")
let setFile = arguments.dropFirst(5).first { !$0.hasPrefix("--") }
let netns = arguments[1]
let scope = NftScope(.named(netns), table: NftTableRef(.inet, "linx"))
let count = Int(arguments[2])!
let repeats = Int(arguments[3])!
let file = arguments[4]
let coldPairs = 5
let noopRuns = 5
let nft = ["nft"]
/// Every `nft` run starts inside the namespace (no `ip netns exec` in front:
/// Linx enters it once per thread, so neither side pays for getting there).
let namespaceFile = "/run/netns/\(netns)"

/// The rules bench-nft.sh writes into FILE, line for line.
func rule(_ i: Int) -> String { "ip saddr 10.\(100 + i / 62500).\(i / 250 % 250).\(i % 250 + 1) tcp dport \(1024 + i % 50000) accept" }

let desired = NftTable(chains: [NftChain("input", base: NftBaseChain(type: .filter, hook: .input), rules: (0..<count).map(rule))])

/// The elements bench-nft.sh writes into SETFILE.
func element(_ i: Int) -> String { "10.\(100 + i / 62500).\(i / 250 % 250).\(i % 250 + 1)" }

let setDesired = NftTable(sets: [NftSet("s", type: "ipv4_addr", elements: (0..<count).map(element))])
let kernel = LinuxKernel()

func reference(_ arguments: [String]) -> Sample { sampleReference(nft + arguments, netns: namespaceFile) }

func deleteTable() { _ = reference(["delete", "table", "inet", "linx"]) }

/// The table as the kernel lists it (chains, rules, sets; the comment).
func listed() async throws -> (content: NftTable, comment: String?) {
    guard let table = try await NftablesReconciler(backend: kernel).observe(in: scope).table else { fail("no table inet linx") }
    return (table.content, table.comment)
}

func nftCold(_ file: String = file) -> Sample { reference(["-f", file]) }

/// A cold pass creating `table` (`count` entries and two containers: table
/// and chain, or table and set).
func linxCold(_ table: NftTable = desired) async throws -> Sample {
    let reconciler = NftablesReconciler(backend: kernel)
    return try await sampleSelf {
        let report = try await reconciler.reconcile(in: scope, desired: table)
        guard report.converged, report.applied.count == count + 2 else { fail("cold pass: \(report.applied.count) applied, \(report.failed.prefix(3))") }
    }
}

/// `pairs` cold pairs of `nft -f file` and a cold pass creating `table`, in
/// alternating order, each run followed by `nft delete table`; `check`: the
/// first pair also compares both sides' listings.
func coldPairs(_ pairs: Int, repetition: Int, file: String, table: NftTable, check: Bool) async throws
    -> (nft: [Sample], linx: [Sample], ratios: [Double])
{
    var out: (nft: [Sample], linx: [Sample], ratios: [Double]) = ([], [], [])
    for pair in 0..<pairs {
        let nftFirst = (repetition + pair) % 2 == 0
        var reference: Sample?
        if nftFirst {
            reference = nftCold(file)
            if check, pair == 0 {
                // The same end state: nft's table and ours list the same.
                let made = try await listed()
                deleteTable()
                let ours = try await linxCold(table)
                guard try await listed() == made else { fail("nft -f \(file) and the cold pass made different tables") }
                deleteTable()
                out.nft.append(reference!)
                out.linx.append(ours)
                out.ratios.append(ours.wall / reference!.wall)
                continue
            }
            deleteTable()
        }
        let ours = try await linxCold(table)
        deleteTable()
        if reference == nil {
            reference = nftCold(file)
            deleteTable()
        }
        out.nft.append(reference!)
        out.linx.append(ours)
        out.ratios.append(ours.wall / reference!.wall)
    }
    return out
}

if coldOnly {
    // For a profiler: only cold pairs, each run followed by `nft delete table`.
    for _ in 0..<repeats {
        let sample = try await linxCold()
        deleteTable()
        let reference = nftCold()
        deleteTable()
        print("linx_cold_pass", sample.wall, sample.user, sample.system, sample.faults, sample.runQueue, sample.idle)
        print("nft_f", reference.wall, reference.user, reference.system, reference.faults, reference.runQueue, reference.idle)
        if let setFile {
            let sample = try await linxCold(setDesired)
            deleteTable()
            let reference = nftCold(setFile)
            deleteTable()
            print("linx_cold_set_pass", sample.wall, sample.user, sample.system, sample.faults, sample.runQueue, sample.idle)
            print("nft_f_set", reference.wall, reference.user, reference.system, reference.faults, reference.runQueue, reference.idle)
        }
    }
    exit(0)
}

var nftF: [Sample] = [], cold: [Sample] = [], nftList: [Sample] = [], noop: [Sample] = []
var release: [Sample] = [], nftCheck: [Sample] = [], plan: [Sample] = []
var coldRatios: [Double] = [], noopRatios: [Double] = [], planRatios: [Double] = []
var setNftF: [Sample] = [], setCold: [Sample] = [], setRatios: [Double] = []
for repetition in 0..<repeats {
    let rules = try await coldPairs(coldPairs, repetition: repetition, file: file, table: desired, check: repetition == 0)
    nftF += rules.nft
    cold += rules.linx
    coldRatios += rules.ratios
    if let setFile {
        let set = try await coldPairs(coldPairs, repetition: repetition, file: setFile, table: setDesired, check: repetition == 0)
        setNftF += set.nft
        setCold += set.linx
        setRatios += set.ratios
    }

    let reconciler = NftablesReconciler(backend: kernel)
    let made = try await reconciler.reconcile(in: scope, desired: desired)
    guard made.converged else { fail("setting up the no-op passes: \(made.failed.prefix(3))") }
    for _ in 0..<noopRuns {
        let theirs = reference(["list", "table", "inet", "linx"])
        let ours = try await sampleSelf {
            let report = try await reconciler.reconcile(in: scope, desired: desired)
            guard report.converged, report.planned.isEmpty else { fail("no-op pass planned \(report.planned.count) ops: \(report.planned.prefix(3))") }
        }
        nftList.append(theirs)
        noop.append(ours)
        noopRatios.append(ours.wall / theirs.wall)
    }
    release.append(try await sampleSelf {
        let report = try await reconciler.reconcile(in: scope, desired: nil)
        guard report.converged, report.applied.count == 1 else { fail("release pass: \(report.failed.prefix(3))") }
    })

    let theirs = reference(["-c", "-f", file])
    let planner = NftablesReconciler(backend: kernel)
    let ours = try await sampleSelf {
        let planned = try await planner.plan(in: scope, desired: desired)
        guard planned.ops.count == count + 2 else { fail("plan of the absent table has \(planned.ops.count) ops") }
    }
    nftCheck.append(theirs)
    plan.append(ours)
    planRatios.append(ours.wall / theirs.wall)
}

print("""
    measure: wall s | cpu s (user+sys) | run queue s (runnable, waiting for a CPU) | idle s (wall - cpu - run queue: \
    sleeping) | minor faults, each median [min-max] (cold: \(cold.count) pairs, no-op: \(noop.count), plan: \(plan.count))
    """)
for (name, samples) in [
    ("nft_f", nftF), ("linx_cold_pass", cold), ("nft_f_set", setNftF), ("linx_cold_set_pass", setCold),
    ("nft_list", nftList), ("linx_noop_pass", noop), ("linx_release_pass", release), ("nft_check", nftCheck), ("linx_plan", plan),
] where !samples.isEmpty {
    print(
        name, spread(samples.map(\.wall)), "|", spread(samples.map(\.cpu)), "|", spread(samples.map(\.runQueue)), "|",
        spread(samples.map(\.idle)), "|", spread(samples.map { Double($0.faults) }, digits: 0))
}
/// Per pair, Linx's wall time without its run-queue wait over nft's: the
/// ratio when neither side waits for a CPU another process holds.
func uncontended(_ ours: [Sample], _ theirs: [Sample]) -> String {
    "\(medians(ours, theirs, \.uncontended)), per pair \(spread(zip(ours, theirs).map { $0.uncontended / $1.uncontended }, digits: 2))"
}
func medians(_ ours: [Sample], _ theirs: [Sample], _ measure: (Sample) -> Double) -> String {
    ratio(median(ours.map(measure)), median(theirs.map(measure)))
}
print("""
    cold:  linx \(median(cold.map(\.wall))) s = \(medians(cold, nftF, \.wall)) nft -f (goal <= 1.0x); \
    per pair \(spread(coldRatios, digits: 2)) over \(coldRatios.count) pairs; cpu \(medians(cold, nftF, \.cpu)); \
    without run-queue wait \(uncontended(cold, nftF))
    no-op: linx \(median(noop.map(\.wall))) s = \(medians(noop, nftList, \.wall)) nft list table (goal <= 2x); \
    per pair \(spread(noopRatios, digits: 2)); cpu \(medians(noop, nftList, \.cpu))
    plan:  linx \(median(plan.map(\.wall))) s = \(medians(plan, nftF, \.wall)) nft -f, \(medians(plan, nftCheck, \.wall)) nft -c -f; \
    per pair (nft -c -f) \(spread(planRatios, digits: 2)); cpu \(medians(plan, nftCheck, \.cpu)) nft -c -f
    """)
if !setCold.isEmpty {
    print("set cold: linx \(median(setCold.map(\.wall))) s = \(medians(setCold, setNftF, \.wall)) nft -f (\(count) elements in one set); "
        + "per pair \(spread(setRatios, digits: 2)) over \(setRatios.count) pairs; cpu \(medians(setCold, setNftF, \.cpu)); "
        + "without run-queue wait \(uncontended(setCold, setNftF))")
}
