/// How a conformance run behaves. The defaults are what `linx conformance` uses.
public struct ConformanceOptions: Sendable, Hashable {
    /// The run's first seed. Each case draws from a seed derived from a run
    /// seed and its id, so a run seed plus a filter on one case replays that
    /// case exactly.
    public var seed: UInt64
    /// How many run seeds each case runs on: `seed`, `seed + 1`, ... A case
    /// stops at its first failing seed, and its result names that seed.
    public var seedCount: Int
    /// Runs only the cases whose `subject/tags/id` the filter matches.
    public var filter: CaseFilter?
    /// Desired states per multi-step case (report contract, drift).
    public var rounds: Int
    /// Passes run while faults are on.
    public var faultPasses: Int
    /// Passes allowed, after faults stop, to converge.
    public var convergenceBound: Int
    /// How long (wall time) a monitor may take to hint, or a loop to settle,
    /// before the case fails: a bound on failure only (a conforming Source
    /// answers long before it, and a passing case never waits for it), so it
    /// is generous: under heavy load (load average 9 on 2 cores) a loop's
    /// first pass over a real kernel was seen to take more than 10 seconds.
    public var hintTimeout: Duration

    /// The default ``hintTimeout``.
    public static let defaultHintTimeout: Duration = .seconds(30)

    /// Seeds per case when none is given: enough that a seed-dependent
    /// defect is caught by a plain `swift test`.
    public static let defaultSeedCount = 5

    public init(
        seed: UInt64 = 0, seedCount: Int = ConformanceOptions.defaultSeedCount, filter: CaseFilter? = nil,
        rounds: Int = 3, faultPasses: Int = 6, convergenceBound: Int = 3,
        hintTimeout: Duration = ConformanceOptions.defaultHintTimeout
    ) {
        self.seed = seed
        self.seedCount = max(1, seedCount)
        self.filter = filter
        self.rounds = max(1, rounds)
        self.faultPasses = max(1, faultPasses)
        self.convergenceBound = max(1, convergenceBound)
        self.hintTimeout = hintTimeout
    }
}

/// A regular expression selecting cases, matched anywhere in
/// `subject/tag,tag/case-id` (so `ownership`, `rtnl/` and `^hosts/.*/drift`
/// all work).
public struct CaseFilter: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public let pattern: String

    /// Fails with a message naming the pattern when it is not a valid regex.
    public init(_ pattern: String) throws(CaseFilterError) {
        do {
            _ = try Regex(pattern)
        } catch {
            throw CaseFilterError(pattern: pattern, reason: "\(error)")
        }
        self.pattern = pattern
    }

    /// The text a filter is matched against.
    public static func target(subject: String, case testCase: ConformanceCase) -> String {
        "\(subject)/\(testCase.tags.map(\.rawValue).joined(separator: ","))/\(testCase.id)"
    }

    public func matches(subject: String, case testCase: ConformanceCase) -> Bool {
        guard let regex = try? Regex(pattern) else { return false }
        return Self.target(subject: subject, case: testCase).contains(regex)
    }

    public var description: String { pattern }
}

/// A `--filter` that is not a regular expression.
public struct CaseFilterError: Error, Sendable, Hashable, CustomStringConvertible {
    public var pattern: String
    public var reason: String

    public var description: String { "invalid filter \"\(pattern)\": \(reason)" }
}
