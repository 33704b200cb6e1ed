import HostsSourceExample
import LinxConformance
import Testing

/// The template a Source author copies (the README shows the same): every
/// case the subject can run becomes one test, run on the default seeds; the
/// cases it cannot run are listed as a skipped test with their reasons.
@Suite("Hosts Source conformance")
struct HostsConformanceTests {
    static let subject = HostsSubject()

    @Test("hosts Source", arguments: Conformance.runnableCases(subject))
    func hostsSourceConforms(_ testCase: ConformanceCase) async throws {
        try await Conformance.check(Self.subject, case: testCase)
    }

    @Test("the hosts subject runs every case: nothing is skipped")
    func nothingSkipped() {
        #expect(Conformance.runnableCases(Self.subject) == ConformanceCase.all, "\(Conformance.skipSummary(Self.subject))")
    }
}
