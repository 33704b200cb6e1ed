/// Renders results as the plain-text table `linx conformance` prints: one
/// row per case (subject, case, outcome, time), every failure in full below
/// it with its seed and a replay hint, and a one-line summary.
public enum TableReporter {
    /// The table, failure details and summary line, newline-terminated.
    ///
    /// `replay` turns a failed result into the command (or call) that reruns
    /// it; the default names the run seed and the case.
    public static func render(
        _ runs: [ConformanceResults],
        replay: (CaseResult) -> String = { "seed \($0.runSeed), filter \"\($0.testCase.id)\"" }
    ) -> String {
        let rows = runs.flatMap(\.cases)
        let subjectWidth = max("SUBJECT".count, rows.map(\.subject.count).max() ?? 0)
        let caseWidth = max("CASE".count, rows.map(\.testCase.qualifiedName.count).max() ?? 0)
        var out = pad("SUBJECT", subjectWidth) + "  " + pad("CASE", caseWidth) + "  RESULT  TIME\n"
        for row in rows {
            out += pad(row.subject, subjectWidth) + "  " + pad(row.testCase.qualifiedName, caseWidth) + "  "
                + pad(row.outcome.label, 6) + "  " + format(row.duration)
            if case .skipped(let reason) = row.outcome { out += "  (\(reason))" }
            out += "\n"
        }
        let failures = rows.filter(\.outcome.isFailure)
        for row in failures {
            guard case .failed(let failure) = row.outcome else { continue }
            out += "\nFAIL \(row.subject) \(row.testCase.qualifiedName): \(row.testCase.title)\n"
            out += failure.description.split(separator: "\n", omittingEmptySubsequences: false)
                .map { "  \($0)\n" }.joined()
            out += "  failed on run seed \(row.runSeed) (case seed \(row.seed)), after \(row.seedsRun - 1) passing seed\(row.seedsRun == 2 ? "" : "s")\n"
            out += "  replay: \(replay(row))\n"
        }
        out += "\n" + summary(runs) + "\n"
        return out
    }

    /// `conformance: 3 subjects, 36 cases: 33 passed, 1 failed, 2 skipped in 0.41 s (seed 0)`.
    public static func summary(_ runs: [ConformanceResults]) -> String {
        let rows = runs.flatMap(\.cases)
        let failed = runs.reduce(0) { $0 + $1.failed }
        let passed = runs.reduce(0) { $0 + $1.passed }
        let skipped = runs.reduce(0) { $0 + $1.skipped }
        let total = runs.reduce(Duration.zero) { $0 + $1.duration }
        let seeds = Set(runs.map(\.seed)).sorted().map(String.init).joined(separator: ", ")
        return "conformance: \(runs.count) subject\(runs.count == 1 ? "" : "s"), \(rows.count) cases: "
            + "\(passed) passed, \(failed) failed, \(skipped) skipped in \(format(total)) (seed \(seeds))"
            + (failed == 0 ? "" : " FAILED")
    }

    /// Seconds with millisecond precision, e.g. `0.012 s`.
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let millis = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        let text = "\(millis / 1000).\(String(repeating: "0", count: 3 - String(millis % 1000).count))\(millis % 1000)"
        return text + " s"
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
