/// Renders results as JUnit XML, the format CI systems (GitLab, Jenkins,
/// GitHub test reporters) read: one `<testsuite>` per subject, one
/// `<testcase>` per case, failures with their full detail and seed, skips
/// with their reason.
public enum JUnitReporter {
    /// The XML document.
    public static func render(_ runs: [ConformanceResults]) -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        let tests = runs.reduce(0) { $0 + $1.cases.count }
        let failures = runs.reduce(0) { $0 + $1.failed }
        let skipped = runs.reduce(0) { $0 + $1.skipped }
        let time = runs.reduce(Duration.zero) { $0 + $1.duration }
        out += "<testsuites name=\"linx-conformance\" tests=\"\(tests)\" failures=\"\(failures)\" skipped=\"\(skipped)\" time=\"\(seconds(time))\">\n"
        for run in runs {
            out += "  <testsuite name=\(attribute(run.subject)) tests=\"\(run.cases.count)\" failures=\"\(run.failed)\" "
                + "skipped=\"\(run.skipped)\" errors=\"0\" time=\"\(seconds(run.duration))\">\n"
            out += "    <properties><property name=\"seed\" value=\"\(run.seed)\"/></properties>\n"
            for result in run.cases {
                let classname = "\(run.subject).\(result.testCase.tags.first?.rawValue ?? "case")"
                out += "    <testcase classname=\(attribute(classname)) name=\(attribute(result.testCase.id)) time=\"\(seconds(result.duration))\""
                switch result.outcome {
                case .passed:
                    out += "/>\n"
                case .skipped(let reason):
                    out += ">\n      <skipped message=\(attribute(reason))/>\n    </testcase>\n"
                case .failed(let failure):
                    out += ">\n      <failure message=\(attribute(failure.message)) type=\"conformance\">"
                    out += escape("\(result.testCase.title)\nrun seed \(result.runSeed), case seed \(result.seed)\n\(failure)")
                    out += "</failure>\n    </testcase>\n"
                }
            }
            out += "  </testsuite>\n"
        }
        return out + "</testsuites>\n"
    }

    /// Escapes text for an XML element body or attribute value, dropping
    /// characters XML 1.0 cannot carry at all.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value >= 0x20 && scalar.value != 0xFFFE && scalar.value != 0xFFFF {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    private static func attribute(_ text: String) -> String { "\"\(escape(text))\"" }

    private static func seconds(_ duration: Duration) -> String {
        let (whole, atto) = duration.components
        let micros = whole * 1_000_000 + atto / 1_000_000_000_000
        let fraction = String(micros % 1_000_000)
        return "\(micros / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
    }
}
