/// Renders fuzz summaries as JUnit XML for CI test reporters: one
/// `<testsuite>` per subject, with a `<testcase>` for the scenarios as a
/// whole (failing with the replay command and trace path when any
/// scenario failed), one per kept failing scenario, one for determinism and
/// one for "every fault kind fired" (skipped in a part: the merge decides it).
public enum FuzzJUnitReporter {
    /// The XML document.
    public static func render(_ summaries: [FuzzSummary]) -> String {
        var suites = ""
        var tests = 0
        var failures = 0
        var skippedTotal = 0
        for summary in summaries {
            var cases: [(name: String, failure: (message: String, body: String)?, skipped: String?)] = []
            let scope = summary.shards == [.whole] ? "" : " shard \(summary.shards.map(\.description).joined(separator: ","))"
            var body = "\(summary.failureCount) of \(summary.scenariosRun) scenarios failed (seed \(summary.seed)\(scope))"
            if let replay = summary.replay { body += "\nreplay: \(replay)" }
            if let trace = summary.tracePath { body += "\ntrace: \(trace)" }
            cases.append((
                "\(summary.scenariosRun) scenarios",
                summary.failureCount == 0 ? nil : ("\(summary.failureCount) scenarios failed", body), nil))
            for failure in summary.failures {
                cases.append(("scenario \(failure.scenario)\(failure.shrunk ? " (shrunk)" : "")", (failure.message.split(separator: "\n").first.map(String.init) ?? "failed", failure.message), nil))
            }
            cases.append((
                "determinism (\(summary.determinismChecked) scenarios run twice)",
                summary.nondeterministic.isEmpty ? nil : ("histories differ", summary.nondeterministic.joined(separator: "\n")), nil))
            if let rule = FuzzReporter.everyKindRule(summary) {
                // A part: skipped, not passed, so the report shows the merge still has to decide it.
                let silent = summary.silentKinds.isEmpty ? "" : "; never fired here: \(summary.silentKinds.joined(separator: ", "))"
                cases.append(("every fault kind fired (checked at merge)", nil, rule + silent))
            } else if summary.requireEveryKind {
                cases.append((
                    "every fault kind fired",
                    summary.silentKinds.isEmpty ? nil : ("never fired: \(summary.silentKinds.joined(separator: ", "))", ""), nil))
            }
            let failed = cases.count { $0.failure != nil }
            let skipped = cases.count { $0.skipped != nil }
            skippedTotal += skipped
            tests += cases.count
            failures += failed
            suites += "  <testsuite name=\"\(JUnitReporter.escape("fuzz \(summary.subject)"))\" tests=\"\(cases.count)\" failures=\"\(failed)\" skipped=\"\(skipped)\" errors=\"0\" time=\"\(summary.seconds)\">\n"
            suites += "    <properties><property name=\"seed\" value=\"\(summary.seed)\"/>"
                + "<property name=\"shards\" value=\"\(summary.shards.map(\.description).joined(separator: ","))\"/></properties>\n"
            for testCase in cases {
                suites += "    <testcase classname=\"\(JUnitReporter.escape("fuzz.\(summary.subject)"))\" name=\"\(JUnitReporter.escape(testCase.name))\""
                if let reason = testCase.skipped {
                    suites += ">\n      <skipped message=\"\(JUnitReporter.escape(reason))\"/>\n    </testcase>\n"
                } else if let failure = testCase.failure {
                    suites += ">\n      <failure message=\"\(JUnitReporter.escape(failure.message))\" type=\"fuzz\">"
                        + JUnitReporter.escape(failure.body) + "</failure>\n    </testcase>\n"
                } else {
                    suites += "/>\n"
                }
            }
            suites += "  </testsuite>\n"
        }
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<testsuites name=\"linx-fuzz\" tests=\"\(tests)\" failures=\"\(failures)\" skipped=\"\(skippedTotal)\">\n" + suites + "</testsuites>\n"
    }
}
