import Benchmark
import LinxConformance
import LinxKernelSim
import Synchronization

/// Convergence-fuzzing speed: one default scenario per iteration (the ones
/// `linx fuzz` draws: 8-24 fault-phase passes, a quiet phase, every pass
/// audited against two snapshots), and whole 2-worker campaigns of
/// `campaignSize` scenarios as `linx fuzz` runs them. Target (issues #7, #14):
/// 1,000 scenarios per second on 2 cores in release for every built-in
/// Source, so a campaign iteration must take at most `campaignSize` ms; one
/// scenario on one core at most 2 ms.

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

/// Scenarios per campaign iteration.
let campaignSize = 400

/// Which campaign seed the next campaign iteration uses, so iterations do not repeat one campaign.
let nextCampaign = Atomic<UInt64>(1)

func campaign<S: FuzzableSubject>(_ subject: S, _ benchmark: Benchmark) async {
    for _ in benchmark.scaledIterations {
        let seed = nextCampaign.add(1, ordering: .relaxed).oldValue
        blackHole(await FuzzCampaign.run(
            subject, options: FuzzOptions(seed: seed, scenarios: campaignSize, parallelism: 2, determinismChecks: 0)))
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], maxDuration: .seconds(5), maxIterations: 2_000)

    Benchmark("fuzz scenario, rtnl/sim (20-160 routes)") { benchmark in await fuzz(RtnlSimSubject(), benchmark) }
    Benchmark("fuzz scenario, sysctl/sim") { benchmark in await fuzz(SysctlSimSubject(), benchmark) }
    Benchmark("fuzz scenario, cgroup/sim") { benchmark in await fuzz(CgroupSimSubject(), benchmark) }

    let campaigns = Benchmark.Configuration(metrics: [.wallClock, .cpuUser], maxDuration: .seconds(10), maxIterations: 20)
    Benchmark("campaign of 400, 2 workers, rtnl/sim", configuration: campaigns) { benchmark in
        await campaign(RtnlSimSubject(), benchmark)
    }
    Benchmark("campaign of 400, 2 workers, sysctl/sim", configuration: campaigns) { benchmark in
        await campaign(SysctlSimSubject(), benchmark)
    }
    Benchmark("campaign of 400, 2 workers, cgroup/sim", configuration: campaigns) { benchmark in
        await campaign(CgroupSimSubject(), benchmark)
    }
}
