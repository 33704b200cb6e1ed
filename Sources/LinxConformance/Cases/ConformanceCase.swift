/// A group of cases, for filtering (`--filter ownership`).
public enum CaseTag: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    case convergence, idempotence, report, ownership, release, drift, validation, faults, strategy, monitor, loop

    public static func < (a: CaseTag, b: CaseTag) -> Bool { a.rawValue < b.rawValue }
}

/// One behaviour every Source must have, named as that behaviour.
///
/// The case list is data (``all``); ``Conformance`` runs each against a
/// subject. `id` is stable and short (for `--filter` and replay commands),
/// `title` is the behaviour in words.
public struct ConformanceCase: Sendable, Hashable, Identifiable, Codable, CustomStringConvertible {
    /// Stable kebab-case identifier, e.g. `second-pass-applies-nothing`.
    public let id: String
    /// The behaviour, as a sentence fragment.
    public let title: String
    /// The groups it belongs to.
    public let tags: [CaseTag]
    /// A subject ability the case needs; without it the case is skipped.
    public let requires: SubjectCapability?

    init(_ id: String, _ title: String, tags: [CaseTag], requires: SubjectCapability? = nil) {
        self.id = id
        self.title = title
        self.tags = tags
        self.requires = requires
    }

    /// The case with `id` (`first-pass-converges`), nil when there is none.
    public init?(id: String) {
        guard let found = Self.all.first(where: { $0.id == id }) else { return nil }
        self = found
    }

    /// `tag/id`, what a filter is matched against, e.g. `ownership/foreign-state-untouched`.
    public var qualifiedName: String { "\(tags.first?.rawValue ?? "case")/\(id)" }

    public var description: String { qualifiedName }
}

extension ConformanceCase {
    public static let firstPassConverges = ConformanceCase(
        "first-pass-converges", "the first pass converges", tags: [.convergence])
    public static let secondPassAppliesNothing = ConformanceCase(
        "second-pass-applies-nothing", "a second pass applies nothing", tags: [.idempotence, .convergence])
    public static let reportKeepsContract = ConformanceCase(
        "report-keeps-contract",
        "every report keeps its contract over changing desired states", tags: [.report, .convergence])
    public static let foreignStateUntouched = ConformanceCase(
        "foreign-state-untouched", "foreign state is never touched", tags: [.ownership])
    public static let foreignSurvivesEmptyDesired = ConformanceCase(
        "foreign-survives-empty-desired", "emptying the desired state leaves foreign state alone",
        tags: [.ownership])
    public static let foreignSurvivesLostLastApplied = ConformanceCase(
        "foreign-survives-lost-last-applied",
        "a restart that lost lastApplied deletes nothing it cannot prove it owns", tags: [.ownership])
    public static let releaseRemovesExactlyIt = ConformanceCase(
        "release-removes-exactly-it", "releasing an item removes exactly it", tags: [.release, .ownership])
    public static let driftHealedInOnePass = ConformanceCase(
        "drift-healed-in-one-pass", "drift is healed in one pass", tags: [.drift])
    public static let invalidDesiredRejected = ConformanceCase(
        "invalid-desired-rejected", "invalid desired states are rejected and the scope is unchanged",
        tags: [.validation])
    public static let convergesAfterFaults = ConformanceCase(
        "converges-after-faults",
        "under transient faults every report is honest and the Source converges soon after they stop",
        tags: [.faults, .report], requires: .faultInjection)
    public static let strategyReportedConsistently = ConformanceCase(
        "strategy-reported-consistently", "fail-fast and best-effort passes are each reported consistently",
        tags: [.strategy, .faults, .report], requires: .faultInjection)
    public static let changeYieldsHint = ConformanceCase(
        "change-yields-hint", "a change yields a hint within a bound", tags: [.monitor], requires: .monitorTriggers)
    public static let overflowYieldsResync = ConformanceCase(
        "overflow-yields-resync", "lost events (ENOBUFS) yield a resync hint", tags: [.monitor],
        requires: .overflowTrigger)

    public static let noOpPassWritesNothing = ConformanceCase(
        "no-op-pass-writes-nothing", "a pass that reports no op writes nothing, not even the same bytes",
        tags: [.idempotence], requires: .mutationJournal)
    public static let failedOpsKeepOwnership = ConformanceCase(
        "failed-ops-keep-ownership",
        "under faults, lastApplied owns exactly what was made: failed creates are not owned, failed updates and releases still are",
        tags: [.ownership, .faults], requires: .faultInjection)

    public static let loopHealsDrift = ConformanceCase(
        "loop-heals-drift", "run inside a ReconcileLoop, the Source is healed after drift", tags: [.loop, .drift])
    public static let loopSurvivesErrorPasses = ConformanceCase(
        "loop-survives-error-passes", "run inside a ReconcileLoop, the Source survives passes that fail",
        tags: [.loop, .faults])

    /// Every case, in the order they run.
    public static let all: [ConformanceCase] = [
        .firstPassConverges, .secondPassAppliesNothing, .noOpPassWritesNothing, .reportKeepsContract,
        .foreignStateUntouched, .foreignSurvivesEmptyDesired, .foreignSurvivesLostLastApplied,
        .releaseRemovesExactlyIt, .driftHealedInOnePass, .invalidDesiredRejected,
        .convergesAfterFaults, .strategyReportedConsistently, .failedOpsKeepOwnership,
        .changeYieldsHint, .overflowYieldsResync,
        .loopHealsDrift, .loopSurvivesErrorPasses,
    ]
}
