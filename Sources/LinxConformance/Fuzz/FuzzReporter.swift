import LinxKernelSim

/// Renders fuzz results as `linx fuzz` prints them: a summary with the
/// scenario rate, every fault kind's count, the determinism check, and for a
/// failure its seed, the shrunk scenario, and one command that replays it.
public enum FuzzReporter {
    /// `replay` turns a scenario into the command that reruns it.
    public static func render(_ results: FuzzResults, replay: (FuzzScenario) -> String) -> String {
        var out = ""
        for failure in results.failures.prefix(3) {
            out += "FAIL \(results.subject) scenario \(failure.scenario)\n"
            out += indent(failure.failure?.description ?? "") + "\n"
        }
        if let shrunk = results.shrunk, let first = results.failures.first {
            out += "shrunk (weight \(first.scenario.weight) -> \(shrunk.scenario.weight)): \(shrunk.scenario)\n"
            out += indent(shrunk.failure?.description ?? "") + "\n"
            out += "replay: \(replay(shrunk.scenario))\n"
        }
        let counts = SimFaultKind.allCases.filter { results.expectedKinds.contains($0) || results.fired[$0, default: 0] > 0 }
            .map { "\($0.rawValue) \(results.fired[$0, default: 0])" }.joined(separator: ", ")
        out += "faults fired: \(counts)\n"
        if !results.silentKinds.isEmpty {
            out += "never fired: \(results.silentKinds.map(\.rawValue).joined(separator: ", ")) (a run that exercised nothing cannot pass)\n"
        }
        let checked = min(results.options.determinismChecks, results.options.scenarios)
        if results.nondeterministic.isEmpty {
            out += "determinism: \(checked) scenario\(checked == 1 ? "" : "s") run twice, identical histories\n"
        } else {
            out += "determinism: FAILED for \(results.nondeterministic.map(\.description).joined(separator: "; "))\n"
        }
        out += "fuzz \(results.subject): \(results.scenariosRun) scenarios, \(results.passes) passes, "
            + "\(results.failures.count) failed in \(TableReporter.format(results.duration)) "
            + "(\(Int(results.scenariosPerSecond.rounded())) scenarios/s), seed \(results.options.seed)"
            + (results.succeeded ? "" : " FAILED") + "\n"
        return out
    }

    private static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "  \($0)" }.joined(separator: "\n")
    }
}
