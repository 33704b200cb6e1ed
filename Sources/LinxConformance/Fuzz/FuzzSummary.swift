import LinxKernelSim

/// A campaign's (or one shard's) results as data: what `linx fuzz --json`
/// writes, what `linx fuzz merge` reads back, and what ``FuzzJUnitReporter``
/// renders. Merging the summaries of every shard of one campaign gives the
/// summary of the whole campaign.
public struct FuzzSummary: Sendable, Hashable, Codable {
    /// The subject's name.
    public var subject: String
    /// The campaign seed.
    public var seed: UInt64
    /// Scenarios in the whole campaign.
    public var campaignScenarios: Int
    /// Quiet-phase passes allowed.
    public var maxPasses: Int
    /// The shards this summary covers (one for a part, all for a merge).
    public var shards: [FuzzShard]
    /// Scenarios run.
    public var scenariosRun: Int
    /// An order-independent checksum of the scenarios run (see
    /// ``digest(seed:indices:)``): the parts of a campaign add up to it.
    public var digest: UInt64
    /// Reconcile passes.
    public var passes: Int
    /// Fault counts by kind name.
    public var fired: [String: Int]
    /// Kinds that must fire, by name.
    public var expectedKinds: [String]
    /// Whether a silent kind fails the campaign.
    public var requireEveryKind: Bool
    /// Failures found (all of them, counted).
    public var failureCount: Int
    /// The first failures, by seed.
    public var failures: [Failure]
    /// Scenarios whose two runs differed.
    public var nondeterministic: [String]
    /// Scenarios checked for determinism.
    public var determinismChecked: Int
    /// Seconds of wall-clock time spent on scenarios (summed over parts).
    public var seconds: Double
    /// The command-line replay of the first failure's shrunk scenario, and
    /// where its trace was saved, when the writer saved one.
    public var replay: String?
    /// Where the shrunk failure's trace was saved.
    public var tracePath: String?

    /// One failing scenario.
    public struct Failure: Sendable, Hashable, Codable {
        /// The scenario's text form.
        public var scenario: String
        /// Its seed.
        public var seed: UInt64
        /// What failed, with its evidence.
        public var message: String
        /// Set on the shrunk failure.
        public var shrunk: Bool

        /// A failure.
        public init(scenario: String, seed: UInt64, message: String, shrunk: Bool) {
            self.scenario = scenario
            self.seed = seed
            self.message = message
            self.shrunk = shrunk
        }
    }

    /// The summary of `results`; `replay` and `tracePath` are the writer's.
    public init(_ results: FuzzResults, replay: String? = nil, tracePath: String? = nil) {
        subject = results.subject
        seed = results.options.seed
        campaignScenarios = results.options.scenarios
        maxPasses = results.options.maxPasses
        shards = [results.options.shard]
        scenariosRun = results.scenariosRun
        digest = Self.digest(seed: results.options.seed, indices: results.scenarioIndices)
        passes = results.passes
        fired = Dictionary(uniqueKeysWithValues: results.fired.map { ($0.key.rawValue, $0.value) })
        expectedKinds = results.expectedKinds.sorted().map(\.rawValue)
        requireEveryKind = results.options.requireEveryKind
        failureCount = results.failureCount
        failures = results.failures.map {
            Failure(scenario: $0.scenario.description, seed: $0.scenario.seed, message: $0.failure?.description ?? "", shrunk: false)
        }
        if let shrunk = results.shrunk {
            failures.insert(
                Failure(scenario: shrunk.scenario.description, seed: shrunk.scenario.seed, message: shrunk.failure?.description ?? "", shrunk: true),
                at: 0)
        }
        nondeterministic = results.nondeterministic.map(\.description)
        determinismChecked = min(results.options.determinismChecks, results.scenariosRun)
        let (whole, atto) = results.duration.components
        seconds = Double(whole) + Double(atto) * 1e-18
        self.replay = replay
        self.tracePath = tracePath
    }

    /// Kinds that had to fire and never did.
    public var silentKinds: [String] {
        expectedKinds.filter { fired[$0, default: 0] == 0 }
    }

    /// True when every shard of the campaign is here.
    public var isWholeCampaign: Bool {
        guard let count = shards.first?.count else { return false }
        return Set(shards.map(\.index)) == Set(1...count)
    }

    /// No failure, deterministic, and (when required) every kind fired.
    public var succeeded: Bool {
        failureCount == 0 && nondeterministic.isEmpty && (!requireEveryKind || silentKinds.isEmpty)
    }

    /// Scenarios per second of scenario time. Over a merge, ``seconds`` is
    /// the sum of every part's time, so this is the rate of one part's
    /// machine, whether the parts ran side by side or one after another
    /// (the campaign's wall time is not known from its parts).
    public var scenariosPerSecond: Double {
        seconds > 0 ? Double(scenariosRun) / seconds : 0
    }

    /// An order-independent checksum of a set of scenarios of a campaign:
    /// the wrapping sum of a mix of each one's seed. Parts that together ran
    /// each scenario once add up to the whole campaign's digest.
    public static func digest<Indices: Sequence<Int>>(seed: UInt64, indices: Indices) -> UInt64 {
        var sum: UInt64 = 0
        for index in indices {
            var mixer = SplitMix64(seed: FuzzScenario.seed(campaignSeed: seed, index: index) ^ 0xD16E_57A5)
            sum &+= mixer.next()
        }
        return sum
    }

    /// Merges the parts of campaigns: summaries of one subject must share a
    /// seed, a size, a pass limit and a shard count, and cover each shard at
    /// most once; their scenario digests must add up. Returns one summary
    /// per subject, in the order subjects first appear.
    public static func merge(_ parts: [FuzzSummary]) throws(FuzzMergeError) -> [FuzzSummary] {
        var order: [String] = []
        var bySubject: [String: FuzzSummary] = [:]
        for part in parts {
            guard var merged = bySubject[part.subject] else {
                order.append(part.subject)
                bySubject[part.subject] = part
                continue
            }
            func mismatch(_ what: String, _ mine: String, _ theirs: String) -> FuzzMergeError {
                FuzzMergeError("\(part.subject): parts of different campaigns (\(what) \(mine) vs \(theirs))")
            }
            guard merged.seed == part.seed else { throw mismatch("seed", "\(merged.seed)", "\(part.seed)") }
            guard merged.campaignScenarios == part.campaignScenarios else {
                throw mismatch("scenarios", "\(merged.campaignScenarios)", "\(part.campaignScenarios)")
            }
            guard merged.maxPasses == part.maxPasses else {
                throw mismatch("max passes", "\(merged.maxPasses)", "\(part.maxPasses)")
            }
            guard merged.shards[0].count == part.shards[0].count else {
                throw mismatch("shard count", "\(merged.shards[0].count)", "\(part.shards[0].count)")
            }
            if let twice = part.shards.first(where: { shard in merged.shards.contains { $0.index == shard.index } }) {
                throw FuzzMergeError("\(part.subject): shard \(twice) is given twice")
            }
            merged.shards += part.shards
            merged.shards.sort { $0.index < $1.index }
            merged.scenariosRun += part.scenariosRun
            merged.digest &+= part.digest
            merged.passes += part.passes
            merged.fired.merge(part.fired, uniquingKeysWith: +)
            merged.requireEveryKind = merged.requireEveryKind || part.requireEveryKind
            merged.failureCount += part.failureCount
            merged.failures += part.failures
            merged.nondeterministic += part.nondeterministic
            merged.determinismChecked += part.determinismChecked
            merged.seconds += part.seconds
            if merged.replay == nil {
                merged.replay = part.replay
                merged.tracePath = part.tracePath
            }
            bySubject[part.subject] = merged
        }
        return try order.map { subject throws(FuzzMergeError) in
            var merged = bySubject[subject]!
            merged.failures.sort { ($0.shrunk ? 0 : 1, $0.seed) < ($1.shrunk ? 0 : 1, $1.seed) }
            if merged.isWholeCampaign {
                let count = merged.shards[0].count
                let whole = digest(seed: merged.seed, indices: 0..<merged.campaignScenarios)
                guard merged.digest == whole,
                    merged.scenariosRun == merged.campaignScenarios
                else {
                    throw FuzzMergeError(
                        "\(subject): the \(count) parts ran \(merged.scenariosRun) scenarios that do not add up to the "
                            + "campaign's \(merged.campaignScenarios) (seed \(merged.seed))")
                }
            }
            return merged
        }
    }
}

/// Part results that cannot be merged, and why.
public struct FuzzMergeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    public var description: String

    /// An error saying `description`.
    public init(_ description: String) {
        self.description = description
    }
}
