import LinxKernelSim

/// What a fuzz campaign should do.
public struct FuzzOptions: Sendable, Hashable {
    /// The campaign seed; scenario `i` derives from it and `i`.
    public var seed: UInt64
    /// Scenarios in the whole campaign (a shard runs its part of them).
    public var scenarios: Int
    /// Quiet-phase passes allowed to converge.
    public var maxPasses: Int
    /// Scenarios run at once.
    public var parallelism: Int
    /// Scenarios replayed twice with history on, to check determinism.
    public var determinismChecks: Int
    /// Fail the campaign when a fault kind the Source can see never fired.
    public var requireEveryKind: Bool
    /// Scenario runs the shrinker may spend on the first failure.
    public var shrinkBudget: Int
    /// Which part of the campaign to run. A shard count above
    /// ``scenarios`` leaves parts empty; `linx fuzz` and
    /// ``FuzzSummary/merge(_:)`` refuse it (``FuzzShard/check(scenarios:)``).
    public var shard: FuzzShard

    /// Options; counts below their minimum are raised to it.
    public init(
        seed: UInt64 = 1, scenarios: Int = 1000, maxPasses: Int = 5, parallelism: Int = 2,
        determinismChecks: Int = 2, requireEveryKind: Bool = true, shrinkBudget: Int = 200, shard: FuzzShard = .whole
    ) {
        self.shrinkBudget = max(0, shrinkBudget)
        self.seed = seed
        self.scenarios = max(1, scenarios)
        self.maxPasses = max(1, maxPasses)
        self.parallelism = max(1, parallelism)
        self.determinismChecks = max(0, determinismChecks)
        self.requireEveryKind = requireEveryKind
        self.shard = shard
    }
}

/// The result of a fuzz campaign (or one shard of it) over one subject.
public struct FuzzResults: Sendable {
    /// The subject's name.
    public var subject: String
    /// The options it ran with.
    public var options: FuzzOptions
    /// Scenarios run.
    public var scenariosRun: Int
    /// The campaign indices of the scenarios run, ascending.
    public var scenarioIndices: [Int]
    /// Reconcile passes, over every scenario.
    public var passes: Int
    /// Fault counts by kind, over every scenario.
    public var fired: [SimFaultKind: Int]
    /// Kinds the subject can see, all of which must fire.
    public var expectedKinds: Set<SimFaultKind>
    /// Failures found (the total, although only the first few are kept).
    public var failureCount: Int
    /// The first failing scenarios, by seed.
    public var failures: [FuzzOutcome]
    /// The first failure shrunk to the smallest scenario that still fails,
    /// replayed with a trace.
    public var shrunk: FuzzOutcome?
    /// Scenarios whose two runs gave different histories.
    public var nondeterministic: [FuzzScenario]
    /// Wall-clock time of the scenarios (shrinking and determinism excluded).
    public var duration: Duration

    /// Kinds that were expected and never fired.
    public var silentKinds: [SimFaultKind] {
        expectedKinds.filter { fired[$0, default: 0] == 0 }.sorted()
    }

    /// Scenarios per second of wall-clock time.
    public var scenariosPerSecond: Double {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        return seconds > 0 ? Double(scenariosRun) / seconds : 0
    }

    /// No failure, deterministic, and (when required, over a whole
    /// campaign: not in one shard of it) every kind fired. The same verdict
    /// as the summary's (``FuzzSummary/succeeded``).
    public var succeeded: Bool {
        FuzzSummary(self).succeeded
    }
}

/// Runs many scenarios against a subject, in parallel, and summarises them.
public enum FuzzCampaign {
    /// The failures a campaign keeps in full (all are counted).
    public static let keptFailures = 10

    /// Runs the campaign (its ``FuzzOptions/shard`` part). `progress` is
    /// called with (done, total) as scenarios finish.
    public static func run<Subject: FuzzableSubject>(
        _ subject: Subject, options: FuzzOptions, progress: (@Sendable (Int, Int) -> Void)? = nil
    ) async -> FuzzResults {
        let kinds = subject.fuzzKinds
        // Indices are drawn as scenarios start, not listed up front: memory
        // follows the scenarios run, not the campaign's (or a shard's) size.
        let total = options.shard.scenarioCount(of: options.scenarios)
        var pending = options.shard.indices(of: options.scenarios).makeIterator()
        var indices: [Int] = []
        let clock = ContinuousClock()
        let start = clock.now
        var fired: [SimFaultKind: Int] = [:]
        var failures: [FuzzOutcome] = []
        var failureCount = 0
        var passes = 0
        var done = 0
        await withTaskGroup(of: FuzzOutcome.self) { group in
            func launch() {
                guard let index = pending.next() else { return }
                indices.append(index)
                let scenario = FuzzScenario.draw(campaignSeed: options.seed, index: index, available: kinds)
                group.addTask { await FuzzRunner.run(subject, scenario: scenario, maxPasses: options.maxPasses) }
            }
            while indices.count < min(options.parallelism, total) { launch() }
            for await outcome in group {
                done += 1
                passes += outcome.passes
                fired.merge(outcome.fired, uniquingKeysWith: +)
                if outcome.failure != nil {
                    failureCount += 1
                    failures.append(outcome)
                    // Keep the lowest seeds, so the kept ones do not depend on timing.
                    if failures.count > keptFailures {
                        failures.sort { $0.scenario.seed < $1.scenario.seed }
                        failures.removeLast()
                    }
                }
                progress?(done, total)
                launch()
            }
        }
        let duration = clock.now - start
        failures.sort { $0.scenario.seed < $1.scenario.seed }
        var shrunk: FuzzOutcome?
        if let first = failures.first {
            let smallest = await shrink(subject, first, maxPasses: options.maxPasses, budget: options.shrinkBudget)
            shrunk = await FuzzRunner.run(subject, scenario: smallest.scenario, maxPasses: options.maxPasses, traced: true)
        }
        var nondeterministic: [FuzzScenario] = []
        for index in indices.prefix(options.determinismChecks) {
            let scenario = FuzzScenario.draw(campaignSeed: options.seed, index: index, available: kinds)
            if !(await isDeterministic(subject, scenario, maxPasses: options.maxPasses)) {
                nondeterministic.append(scenario)
            }
        }
        return FuzzResults(
            subject: subject.name, options: options, scenariosRun: done, scenarioIndices: indices, passes: passes,
            fired: fired, expectedKinds: kinds, failureCount: failureCount, failures: failures, shrunk: shrunk,
            nondeterministic: nondeterministic, duration: duration)
    }

    /// Greedily lowers a failing scenario's ingredients while it still fails.
    public static func shrink<Subject: FuzzableSubject>(
        _ subject: Subject, _ failing: FuzzOutcome, maxPasses: Int, budget: Int = 200
    ) async -> FuzzOutcome {
        var best = failing
        var tries = 0
        var improved = true
        while improved && tries < budget {
            improved = false
            for candidate in best.scenario.shrinkCandidates where tries < budget {
                tries += 1
                let outcome = await FuzzRunner.run(subject, scenario: candidate, maxPasses: maxPasses)
                if outcome.failure != nil {
                    best = outcome
                    improved = true
                    break
                }
            }
        }
        return best
    }

    /// Runs `scenario` twice with history and trace on, and compares.
    public static func isDeterministic<Subject: FuzzableSubject>(
        _ subject: Subject, _ scenario: FuzzScenario, maxPasses: Int
    ) async -> Bool {
        let first = await FuzzRunner.run(subject, scenario: scenario, maxPasses: maxPasses, traced: true)
        let second = await FuzzRunner.run(subject, scenario: scenario, maxPasses: maxPasses, traced: true)
        return first.history == second.history && first.history != nil
    }
}
