import Benchmark
import LinxConformance
import LinxKernelSim
import Synchronization

/// Convergence-fuzzing speed: one default scenario per iteration (the ones
/// `linx fuzz` draws: 8-24 fault-phase passes, a quiet phase, every pass
/// audited against two snapshots). Target (issue #7): 1,000 scenarios per
/// second on 2 cores in release for a default scenario; `linx fuzz` runs one
/// scenario per core, so the per-core target is 500 scenarios per second.

/// The `index`th scenario of campaign seed 1, as `linx fuzz --seed 1` runs it.
func scenario<S: FuzzableSubject>(_ subject: S, _ index: Int) -> FuzzScenario {
    FuzzScenario.draw(campaignSeed: 1, index: index, available: subject.fuzzKinds)
}

/// Which scenario the next iteration runs: each sample is a new closure
/// call, so the position in the campaign lives outside it.
let nextScenario = Atomic<Int>(0)

func fuzz<S: FuzzableSubject>(_ subject: S, _ benchmark: Benchmark) async {
    for _ in benchmark.scaledIterations {
        let index = nextScenario.add(1, ordering: .relaxed).oldValue
        blackHole(await FuzzRunner.run(subject, scenario: scenario(subject, index), maxPasses: 5))
    }
}

/// Scenarios per campaign in the campaign benchmarks.
let campaignScenarios = 200

/// A whole campaign as `linx fuzz --seed 1 --scenarios 200` runs it (two
/// workers, the default; the two determinism replays included, as `linx
/// fuzz` does them): one iteration is one campaign, so scenarios/s is
/// `campaignScenarios` over the iteration's wall-clock time. The issue #14
/// target is 1,000 scenarios/s on 2 cores, i.e. one campaign in 200 ms.
func campaign<S: FuzzableSubject>(_ subject: S, _ benchmark: Benchmark) async {
    for _ in benchmark.scaledIterations {
        let results = await FuzzCampaign.run(subject, options: FuzzOptions(seed: 1, scenarios: campaignScenarios))
        precondition(results.failureCount == 0, "\(subject.name): a campaign benchmark must pass")
        blackHole(results)
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], maxDuration: .seconds(5), maxIterations: 2_000)

    Benchmark(
        "fuzz campaign, rtnl/sim, 200 scenarios, 2 workers",
        configuration: .init(metrics: [.wallClock, .cpuUser], maxDuration: .seconds(20), maxIterations: 10)
    ) { benchmark in await campaign(RtnlSimSubject(), benchmark) }
    // The same campaign for the other built-in Sources (issue #14: 1,000 scenarios/s each).
    Benchmark(
        "fuzz campaign, sysctl/sim, 200 scenarios, 2 workers",
        configuration: .init(metrics: [.wallClock, .cpuUser], maxDuration: .seconds(20), maxIterations: 20)
    ) { benchmark in await campaign(SysctlSimSubject(), benchmark) }
    Benchmark(
        "fuzz campaign, cgroup/sim, 200 scenarios, 2 workers",
        configuration: .init(metrics: [.wallClock, .cpuUser], maxDuration: .seconds(20), maxIterations: 20)
    ) { benchmark in await campaign(CgroupSimSubject(), benchmark) }
    Benchmark(
        "fuzz campaign, nftables/sim, 200 scenarios, 2 workers",
        configuration: .init(metrics: [.wallClock, .cpuUser], maxDuration: .seconds(20), maxIterations: 20)
    ) { benchmark in await campaign(NftablesSimSubject(), benchmark) }
    Benchmark("fuzz scenario, rtnl/sim (20-160 routes)") { benchmark in await fuzz(RtnlSimSubject(), benchmark) }
    Benchmark("fuzz scenario, sysctl/sim") { benchmark in await fuzz(SysctlSimSubject(), benchmark) }
    Benchmark("fuzz scenario, cgroup/sim") { benchmark in await fuzz(CgroupSimSubject(), benchmark) }
    Benchmark("fuzz scenario, nftables/sim") { benchmark in await fuzz(NftablesSimSubject(), benchmark) }
}
