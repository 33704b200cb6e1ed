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

    /// True when every shard of the campaign is here. Counts the shards
    /// given, never the campaign's N: N may be huge.
    public var isWholeCampaign: Bool {
        guard let count = shards.first?.count else { return false }
        let indices = Set(shards.lazy.filter { $0.count == count }.map(\.index))
        return indices.count == count && indices.allSatisfy { (1...count).contains($0) }
    }

    /// Up to `limit` of the campaign's shards this summary lacks, in
    /// order, and how many it lacks in all (found without walking N).
    public func missingShards(limit: Int) -> (first: [FuzzShard], total: Int) {
        guard let count = shards.first?.count else { return ([], 0) }
        let given = Set(shards.lazy.filter { $0.count == count }.map(\.index)).sorted()
        var gaps: [ClosedRange<Int>] = []
        var low: Int? = 1
        for index in given {
            if let low, low < index { gaps.append(low...(index - 1)) }
            low = index < count ? index + 1 : nil
        }
        if let low, low <= count { gaps.append(low...count) }
        let first = gaps.lazy.flatMap { $0 }.prefix(max(0, limit)).map { try! FuzzShard($0, of: count) }
        return (Array(first), count - given.count)
    }

    /// Whether "every fault kind fired" decides this summary: the rule is
    /// the whole campaign's, since a small shard may miss a rare kind the
    /// campaign fires, so one part (or some parts merged) only reports
    /// its counts and the merge of every part enforces it.
    public var checksEveryKind: Bool {
        requireEveryKind && isWholeCampaign
    }

    /// No failure, deterministic, and (when ``checksEveryKind``) every
    /// kind fired.
    public var succeeded: Bool {
        failureCount == 0 && nondeterministic.isEmpty && (!checksEveryKind || silentKinds.isEmpty)
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
    /// most once; together they must have run exactly their shards'
    /// scenarios (counted, and their digests added up). Each part is
    /// checked as input: a shard count above the campaign's size, a
    /// negative count or a sum past `Int.max` is refused, not trusted.
    /// Returns one summary per subject, in the order subjects first appear.
    public static func merge(_ parts: [FuzzSummary]) throws(FuzzMergeError) -> [FuzzSummary] {
        var order: [String] = []
        var bySubject: [String: FuzzSummary] = [:]
        var partCounts: [String: Int] = [:]
        for part in parts {
            try part.checkAsPart()
            partCounts[part.subject, default: 0] += 1
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
            let have = Set(merged.shards.map(\.index))
            if let twice = part.shards.first(where: { have.contains($0.index) }) {
                throw FuzzMergeError("\(part.subject): shard \(twice) is given twice")
            }
            func add(_ mine: Int, _ theirs: Int, _ what: String) throws(FuzzMergeError) -> Int {
                let (sum, overflow) = mine.addingReportingOverflow(theirs)
                guard !overflow else { throw FuzzMergeError("\(part.subject): the parts' \(what) add up past \(Int.max)") }
                return sum
            }
            merged.shards += part.shards
            merged.shards.sort { $0.index < $1.index }
            merged.scenariosRun = try add(merged.scenariosRun, part.scenariosRun, "scenarios run")
            merged.digest &+= part.digest
            merged.passes = try add(merged.passes, part.passes, "passes")
            for (kind, count) in part.fired {
                merged.fired[kind] = try add(merged.fired[kind, default: 0], count, "\(kind) faults")
            }
            merged.requireEveryKind = merged.requireEveryKind || part.requireEveryKind
            merged.failureCount = try add(merged.failureCount, part.failureCount, "failures")
            merged.failures += part.failures
            merged.nondeterministic += part.nondeterministic
            merged.determinismChecked = try add(merged.determinismChecked, part.determinismChecked, "determinism checks")
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
            // Disjoint shards of one campaign: their counts add up to at most
            // its size, so no overflow; the digest walks only the scenarios
            // the parts say they ran, once their number is known to be right.
            let scenarios = merged.campaignScenarios
            let expected = merged.shards.reduce(0) { $0 + $1.scenarioCount(of: scenarios) }
            let given = partCounts[subject, default: 0]
            let what = "\(subject): the \(given) part\(given == 1 ? "" : "s") given (\(merged.shardsText)"
                + (merged.isWholeCampaign ? "" : "; \(merged.missingText)") + ")"
            let one = merged.shards.count == 1
            guard merged.scenariosRun == expected else {
                throw FuzzMergeError(
                    "\(what) ran \(merged.scenariosRun) scenarios, but \(one ? "that shard" : "those shards") of the campaign's "
                        + "\(scenarios) (seed \(merged.seed)) \(one ? "has" : "have") \(expected)")
            }
            let digest = merged.shards.reduce(UInt64(0)) { $0 &+ Self.digest(seed: merged.seed, indices: $1.indices(of: scenarios)) }
            guard merged.digest == digest else {
                throw FuzzMergeError(
                    "\(what) did not run the scenarios of \(one ? "that shard" : "those shards") of the campaign (seed \(merged.seed)): "
                        + "the scenario digests differ")
            }
            return merged
        }
    }

    /// Refuses a summary that no `linx fuzz` run could have written, before
    /// anything is added up.
    private func checkAsPart() throws(FuzzMergeError) {
        func refuse(_ reason: String) -> FuzzMergeError { FuzzMergeError("\(subject): \(reason)") }
        guard let count = shards.first?.count else { throw refuse("a part that names no shard") }
        if let other = shards.first(where: { $0.count != count }) {
            throw refuse("a part with shards of different counts (\(shards[0]) and \(other))")
        }
        var seen = Set<Int>()
        if let twice = shards.first(where: { !seen.insert($0.index).inserted }) {
            throw refuse("shard \(twice) is given twice")
        }
        guard campaignScenarios >= 1 else { throw refuse("a campaign of \(campaignScenarios) scenarios (at least 1)") }
        guard maxPasses >= 1 else { throw refuse("max passes \(maxPasses) (at least 1)") }
        do { try shards[0].check(scenarios: campaignScenarios) } catch { throw refuse(error.description) }
        let counts = [("scenarios run", scenariosRun), ("passes", passes), ("failures", failureCount),
                      ("determinism checks", determinismChecked)] + fired.sorted { $0.key < $1.key }.map { ("\($0.key) faults", $0.value) }
        if let negative = counts.first(where: { $0.1 < 0 }) { throw refuse("\(negative.0) \(negative.1) (a count, at least 0)") }
        guard seconds.isFinite, seconds >= 0 else { throw refuse("seconds \(seconds) (a time, at least 0)") }
    }

    /// The shards given, as `1/3, 2/3`; past ten, the first ten and how
    /// many more, so a huge merge prints one readable line.
    var shardsText: String {
        let shown = shards.prefix(10).map(\.description).joined(separator: ", ")
        return "shard\(shards.count == 1 ? "" : "s") \(shown)" + (shards.count > 10 ? " and \(shards.count - 10) more" : "")
    }

    /// The shards missing, as `lacks shard 2/3` or `lacks 7 shards: 2/9,
    /// 3/9, ... and 2 more` (first ten named), without walking N.
    public var missingText: String {
        let (first, total) = missingShards(limit: 10)
        let named = first.map(\.description).joined(separator: ", ")
        guard total > 0 else { return "lacks no shard" }
        guard total > 1 else { return "lacks shard \(named)" }
        return "lacks \(total) shards: \(named)" + (total > first.count ? " and \(total - first.count) more" : "")
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
