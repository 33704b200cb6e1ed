import LinxKernelSim

/// Renders fuzz results as `linx fuzz` prints them: for a failure its seed,
/// the shrunk scenario, the one command that replays it and where its trace
/// was saved; then every fault kind's count, the determinism check, and a
/// summary line with the scenario rate.
public enum FuzzReporter {
    /// `replay` turns a scenario into the command that reruns it;
    /// `tracePath` is where the caller saved the shrunk failure's trace.
    public static func render(
        _ results: FuzzResults, tracePath: String? = nil, replay: (FuzzScenario) -> String
    ) -> String {
        render(FuzzSummary(results, replay: results.shrunk.map { replay($0.scenario) }, tracePath: tracePath))
    }

    /// Renders a summary (one part, or parts merged).
    public static func render(_ summary: FuzzSummary) -> String {
        var out = ""
        for failure in summary.failures.filter({ !$0.shrunk }).prefix(3) {
            out += "FAIL \(summary.subject) scenario \(failure.scenario)\n"
            out += indent(failure.message) + "\n"
        }
        if let shrunk = summary.failures.first(where: \.shrunk) {
            out += "shrunk: \(shrunk.scenario)\n"
            out += indent(shrunk.message) + "\n"
        }
        if let replay = summary.replay { out += "replay: \(replay)\n" }
        if let trace = summary.tracePath { out += "trace:  \(trace)\n" }
        let known = SimFaultKind.allCases.map(\.rawValue)
        let counts = known.filter { summary.expectedKinds.contains($0) || summary.fired[$0, default: 0] > 0 }
            .map { "\($0) \(summary.fired[$0, default: 0])" }.joined(separator: ", ")
        out += "faults fired: \(counts)\n"
        if let rule = everyKindRule(summary) {
            let here = summary.shards.count == 1 ? "this part" : "these \(summary.shards.count) shards"
            out += summary.silentKinds.isEmpty
                ? "every fault kind fired in \(here) (\(rule))\n"
                : "never fired in \(here): \(summary.silentKinds.joined(separator: ", ")) (\(rule))\n"
        } else if !summary.silentKinds.isEmpty {
            out += "never fired: \(summary.silentKinds.joined(separator: ", ")) (a run that exercised nothing cannot pass)\n"
        }
        let checked = summary.determinismChecked
        if summary.nondeterministic.isEmpty {
            out += "determinism: \(checked) scenario\(checked == 1 ? "" : "s") run twice, identical histories\n"
        } else {
            out += "determinism: FAILED for \(summary.nondeterministic.joined(separator: "; "))\n"
        }
        let part = summary.shards == [.whole] ? "" : summary.isWholeCampaign
            ? " (\(summary.shards.count) shards merged)" : " (\(summary.shardsText))"
        out += "fuzz \(summary.subject)\(part): \(summary.scenariosRun) scenarios, \(summary.passes) passes, "
            + "\(summary.failureCount) failed in \(format(seconds: summary.seconds))"
            + (summary.shards.count > 1 ? " summed over \(summary.shards.count) shards" : "")
            + " (\(whole(summary.scenariosPerSecond)) scenarios/s\(summary.shards.count > 1 ? " per shard" : "")), seed \(summary.seed)"
            + (summary.succeeded ? "" : " FAILED") + "\n"
        return out
    }

    /// Where "every fault kind fired" is left to the merge: a part of a
    /// campaign that requires it (see ``FuzzSummary/checksEveryKind``), as
    /// its text and JUnit say; nil when this summary decides it.
    static func everyKindRule(_ summary: FuzzSummary) -> String? {
        guard summary.requireEveryKind, !summary.checksEveryKind, let count = summary.shards.first?.count else { return nil }
        return "every kind must fire over the whole campaign: checked at merge, over all \(count) shards"
    }

    /// A rate as a whole number; a summary read back from a file may hold
    /// any time, and a rate past `Int` must print, not trap.
    static func whole(_ value: Double) -> String {
        value.isFinite && abs(value) < 9e18 ? String(Int(value.rounded())) : "\(value)"
    }

    /// `12.345 s`.
    static func format(seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 9e15 else { return "\(seconds) s" }
        let millis = Int((seconds * 1000).rounded())
        let fraction = String(millis % 1000)
        return "\(millis / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction) s"
    }

    private static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "  \($0)" }.joined(separator: "\n")
    }
}
