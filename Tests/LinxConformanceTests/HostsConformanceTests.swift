import HostsSourceExample
import LinxConformance
import Testing

/// The template a Source author copies: every conformance case becomes one
/// test of their own suite.
@Suite("Hosts Source conformance")
struct HostsConformanceTests {
    @Test("hosts Source", arguments: ConformanceCase.all)
    func hostsSourceConforms(_ testCase: ConformanceCase) async throws {
        try await Conformance.check(HostsSubject(), case: testCase)
    }

    @Test("every case runs (none skipped) and passes for the hosts Source, on several seeds")
    func wholeSuitePasses() async {
        for seed: UInt64 in [1, 2, 3, 0xdead_beef] {
            let results = await Conformance.run(HostsSubject(), options: ConformanceOptions(seed: seed))
            #expect(results.cases.count == ConformanceCase.all.count)
            #expect(results.failed == 0, "\(TableReporter.render([results]))")
            #expect(results.skipped == 0, "\(TableReporter.render([results]))")
        }
    }
}
