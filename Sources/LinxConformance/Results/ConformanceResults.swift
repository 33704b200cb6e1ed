/// How one case ended.
public enum CaseOutcome: Sendable, Hashable {
    case passed
    case failed(CaseFailure)
    /// Not run, and why (a missing subject ability, no root ...).
    case skipped(String)

    /// `pass`, `FAIL` or `skip`, as tables print it.
    public var label: String {
        switch self {
        case .passed: "pass"
        case .failed: "FAIL"
        case .skipped: "skip"
        }
    }

    public var isFailure: Bool {
        if case .failed = self { return true }
        return false
    }
}

/// One case's result for one subject.
public struct CaseResult: Sendable, Hashable {
    /// The subject's name.
    public var subject: String
    /// The case.
    public var testCase: ConformanceCase
    public var outcome: CaseOutcome
    /// Wall-clock time the case took, set-up and tear-down included.
    public var duration: Duration
    /// The seed the case drew from (derived from the run's seed and the case id).
    public var seed: UInt64
    /// The run seed of the last seed run (the failing one, when it failed):
    /// with a filter on this case, it replays the case.
    public var runSeed: UInt64
    /// How many run seeds the case ran on.
    public var seedsRun: Int

    public init(
        subject: String, testCase: ConformanceCase, outcome: CaseOutcome, duration: Duration, seed: UInt64,
        runSeed: UInt64, seedsRun: Int = 1
    ) {
        self.subject = subject
        self.testCase = testCase
        self.outcome = outcome
        self.duration = duration
        self.seed = seed
        self.runSeed = runSeed
        self.seedsRun = seedsRun
    }

    /// One line of Swift that replays this case on its last seed.
    public var replay: String {
        "try await Conformance.check(subject, case: ConformanceCase(id: \"\(testCase.id)\")!, options: ConformanceOptions(seed: \(runSeed), seedCount: 1))"
    }
}

/// Every case's result for one subject, from one ``Conformance/run(_:options:)``.
public struct ConformanceResults: Sendable, Hashable {
    /// The subject's name.
    public var subject: String
    /// The run's seed (replay with it plus a filter on the case).
    public var seed: UInt64
    /// One result per case the filter selected, in run order.
    public var cases: [CaseResult]

    public init(subject: String, seed: UInt64, cases: [CaseResult]) {
        self.subject = subject
        self.seed = seed
        self.cases = cases
    }

    public var passed: Int { cases.count { $0.outcome == .passed } }
    public var failed: Int { cases.count { $0.outcome.isFailure } }
    public var skipped: Int { cases.count { if case .skipped = $0.outcome { true } else { false } } }
    /// The summed case durations.
    public var duration: Duration { cases.reduce(.zero) { $0 + $1.duration } }
    /// True when no case failed (skips do not fail a run).
    public var succeeded: Bool { failed == 0 }

    /// The result of the case with `id`, if it ran.
    public subscript(id: String) -> CaseResult? { cases.first { $0.testCase.id == id } }
}
