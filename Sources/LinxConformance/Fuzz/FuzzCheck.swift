/// Convergence fuzzing of your own Source from your own `swift test`.
///
/// ```swift
/// import LinxConformance
/// import Testing
///
/// @Test func myStoreConvergesUnderFaults() async throws {
///     try await Fuzz.check(MyStoreSubject(), options: FuzzOptions(seed: 1, scenarios: 300))
/// }
/// ```
///
/// The subject implements ``FuzzableSubject``. A failure throws
/// ``FuzzCheckFailure``, whose text names the failing seed, the shrunk
/// scenario, the line that replays it (``Fuzz/check(_:scenario:maxPasses:)``,
/// which fails a test while the scenario fails), and its pass-by-pass trace.
public enum Fuzz {
    /// Runs a bounded campaign against `subject` and throws when any
    /// scenario fails, a run is not deterministic, or (when required) a
    /// fault kind never fired. Returns the results of a clean campaign.
    @discardableResult
    public static func check<Subject: FuzzableSubject>(
        _ subject: Subject, options: FuzzOptions = FuzzOptions(scenarios: 200)
    ) async throws(FuzzCheckFailure) -> FuzzResults {
        let results = await FuzzCampaign.run(subject, options: options)
        guard results.succeeded else { throw FuzzCheckFailure(results: results) }
        return results
    }

    /// Runs one scenario with its trace and throws ``FuzzScenarioFailure``
    /// when it fails: the line a failed ``check(_:options:)`` prints to
    /// replay its shrunk scenario, which pasted into a `@Test` fails until
    /// the Source is fixed. Returns the outcome of a scenario that passed.
    @discardableResult
    public static func check<Subject: FuzzableSubject>(
        _ subject: Subject, scenario: FuzzScenario, maxPasses: Int = 5
    ) async throws(FuzzScenarioFailure) -> FuzzOutcome {
        let outcome = await replay(subject, scenario: scenario, maxPasses: maxPasses)
        guard outcome.failure == nil else { throw FuzzScenarioFailure(outcome: outcome) }
        return outcome
    }

    /// Replays one scenario with its trace and returns how it ended, failed
    /// or not (it never throws: to fail a test on a failing scenario, call
    /// ``check(_:scenario:maxPasses:)``). A scenario outside
    /// ``FuzzScenario/validate(available:subject:)``'s limits, or asking for
    /// faults `subject` cannot fire, is not run: the outcome's failure says
    /// why, with 0 passes and no trace.
    public static func replay<Subject: FuzzableSubject>(
        _ subject: Subject, scenario: FuzzScenario, maxPasses: Int = 5
    ) async -> FuzzOutcome {
        await FuzzRunner.run(subject, scenario: scenario, maxPasses: maxPasses, traced: true)
    }
}

/// A failed ``Fuzz/check(_:options:)``: the results, and as text the
/// report a campaign prints plus the shrunk failure's trace.
public struct FuzzCheckFailure: Error, Sendable, CustomStringConvertible {
    /// The campaign's results.
    public var results: FuzzResults

    /// The shrunk failure's trace (nil when the campaign failed without a
    /// failing scenario: a silent fault kind or nondeterminism).
    public var trace: FuzzTrace? { results.shrunk?.trace }

    /// The report, the replay call, and the trace.
    public var description: String {
        var text = FuzzReporter.render(results) { scenario in
            "try await Fuzz.check(subject, scenario: FuzzScenario(parsing: \"\(scenario)\"), maxPasses: \(results.options.maxPasses))"
        }
        if let trace { text += "\n" + trace.description + "\n" }
        return text
    }
}

/// A scenario that failed under ``Fuzz/check(_:scenario:maxPasses:)``: its
/// outcome, and as text the failure and its pass-by-pass trace.
public struct FuzzScenarioFailure: Error, Sendable, CustomStringConvertible {
    /// How the scenario ended (its ``FuzzOutcome/failure`` is set).
    public var outcome: FuzzOutcome

    /// The scenario, its failure, and the trace.
    public var description: String {
        var text = "scenario \(outcome.scenario) failed"
        if let failure = outcome.failure { text += ": \(failure)" }
        if let trace = outcome.trace { text += "\n" + trace.description }
        return text
    }
}
