import HostsSourceExample
import LinxConformance
import Testing

/// The line a failed campaign prints to replay its shrunk scenario fails a
/// test while the scenario fails, and passes once it does not.
@Suite("Fuzz.check(_:scenario:) is the replay line")
struct FuzzReplayLineTests {
    @Test("the printed replay line throws for the failing scenario and passes on a fixed Source")
    func replayLineFailsThenPasses() async throws {
        let broken = BrokenSubject(name: "hosts-deletes-boot-entry", broken: DeletesBootEntryHostsSource())
        let failure: FuzzCheckFailure
        do {
            try await Fuzz.check(broken, options: FuzzOptions(seed: 1, scenarios: 50, shrinkBudget: 20))
            Issue.record("the broken Source passed")
            return
        } catch {
            failure = error
        }
        let shrunk = try #require(failure.results.shrunk)
        #expect(failure.description.contains(
            "replay: try await Fuzz.check(subject, scenario: FuzzScenario(parsing: \"\(shrunk.scenario)\"), maxPasses: 5)"))
        // The printed call, as pasted with `subject` bound to the broken one.
        let subject = broken
        do {
            try await Fuzz.check(subject, scenario: FuzzScenario(parsing: "\(shrunk.scenario)"), maxPasses: 5)
            Issue.record("the replay line passed on the broken Source")
        } catch let replayed as FuzzScenarioFailure {
            #expect(replayed.outcome.failure != nil)
            #expect(replayed.description.contains("deleted localhost, which was there before this pass"), "\(replayed)")
            #expect(replayed.outcome.trace == shrunk.trace)
        }
        // The same line once the Source is fixed.
        let fixed = BrokenSubject(name: "hosts-fixed", broken: DefectiveHostsSource(defect: nil))
        let outcome = try await Fuzz.check(fixed, scenario: FuzzScenario(parsing: "\(shrunk.scenario)"), maxPasses: 5)
        #expect(outcome.failure == nil)
    }
}
