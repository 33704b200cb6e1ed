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
/// scenario, how to replay it, and its pass-by-pass trace.
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

    /// Replays one scenario with its trace, as a failure's text says to.
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
            "Fuzz.replay(subject, scenario: try FuzzScenario(parsing: \"\(scenario)\"), maxPasses: \(results.options.maxPasses))"
        }
        if let trace { text += "\n" + trace.description + "\n" }
        return text
    }
}
