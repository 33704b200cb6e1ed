import HostsSourceExample
import LinxConformance
import Testing

@Suite("Results, filters and reporters")
struct ResultsAndReporterTests {
    static let failure = CaseFailure("foreign state was touched", evidence: ["host1.lan: missing, expected <10.0.0.1> & \"x\""])

    static var sample: ConformanceResults {
        ConformanceResults(
            subject: "demo", seed: 42,
            cases: [
                CaseResult(
                    subject: "demo", testCase: .firstPassConverges, outcome: .passed, duration: .milliseconds(12),
                    seed: 1, runSeed: 42),
                CaseResult(
                    subject: "demo", testCase: .foreignStateUntouched, outcome: .failed(failure),
                    duration: .milliseconds(3), seed: 2, runSeed: 42),
                CaseResult(
                    subject: "demo", testCase: .changeYieldsHint, outcome: .skipped("no monitor"), duration: .zero,
                    seed: 3, runSeed: 42),
            ])
    }

    @Test("counts and success follow the outcomes")
    func counts() {
        let results = Self.sample
        #expect(results.passed == 1 && results.failed == 1 && results.skipped == 1)
        #expect(!results.succeeded)
        #expect(results.duration == .milliseconds(15))
    }

    @Test("the table has a row per case, the failure in full with its replay, and a summary")
    func table() {
        let text = TableReporter.render([Self.sample]) { "linx conformance --seed \($0.runSeed) --filter \($0.testCase.id)" }
        #expect(text.contains("ownership/foreign-state-untouched"))
        #expect(text.contains("FAIL    0.003 s"))
        #expect(text.contains("(no monitor)"))
        #expect(text.contains("linx conformance --seed 42 --filter foreign-state-untouched"))
        #expect(text.contains("host1.lan: missing"))
        #expect(text.hasSuffix("1 passed, 1 failed, 1 skipped in 0.015 s (seed 42) FAILED\n"))
    }

    @Test("JUnit XML counts cases, escapes text, and carries the seed")
    func junit() {
        let xml = JUnitReporter.render([Self.sample])
        #expect(xml.contains("<testsuite name=\"demo\" tests=\"3\" failures=\"1\" skipped=\"1\""))
        #expect(xml.split(separator: "<testcase ", omittingEmptySubsequences: false).count - 1 == 3)
        #expect(xml.contains("&lt;10.0.0.1&gt; &amp; &quot;x&quot;"))
        #expect(!xml.contains("<10.0.0.1>"))
        #expect(xml.contains("run seed 42, case seed 2"))
        #expect(xml.contains("<skipped message=\"no monitor\"/>"))
        #expect(JUnitReporter.escape("a\u{1}b") == "ab")
    }

    @Test("a filter selects by tag, subject or id, and a bad pattern is refused")
    func filters() async throws {
        let ownership = try CaseFilter("ownership")
        let selected = ConformanceCase.all.filter { ownership.matches(subject: "hosts", case: $0) }
        #expect(selected.map(\.id).sorted() == ConformanceCase.all.filter { $0.tags.contains(.ownership) }.map(\.id).sorted())
        #expect(selected.count == 5)
        #expect(ConformanceCase.all.allSatisfy { try! CaseFilter("^hosts/").matches(subject: "hosts", case: $0) })
        #expect(!ConformanceCase.all.contains { try! CaseFilter("^hosts/").matches(subject: "rtnl/sim", case: $0) })
        #expect(throws: CaseFilterError.self) { try CaseFilter("([unclosed") }
        let results = await Conformance.run(HostsSubject(), options: ConformanceOptions(filter: try CaseFilter("drift")))
        #expect(results.cases.map(\.testCase) == [.driftHealedInOnePass, .loopHealsDrift])
    }

    @Test("one seed replays a run; case seeds differ between cases and between run seeds")
    func seeds() async {
        let a = await Conformance.run(HostsSubject(), options: ConformanceOptions(seed: 9))
        let b = await Conformance.run(HostsSubject(), options: ConformanceOptions(seed: 9))
        #expect(a.cases.map(\.seed) == b.cases.map(\.seed))
        #expect(a.cases.map(\.outcome) == b.cases.map(\.outcome))
        #expect(Set(a.cases.map(\.seed)).count == a.cases.count)
        #expect(
            Conformance.caseSeed(run: 9, case: .firstPassConverges)
                != Conformance.caseSeed(run: 10, case: .firstPassConverges))
    }
}
