import Foundation
import LinxConformance
import LinxKernelSim
import Testing

@Suite("Convergence fuzzing")
struct FuzzTests {
    @Test("a scenario's text form parses back to the same scenario, and bad text names its field")
    func scenarioText() throws {
        for index in 0..<50 {
            let scenario = FuzzScenario.draw(campaignSeed: 7, index: index, available: Set(SimFaultKind.allCases))
            #expect(try FuzzScenario(parsing: scenario.description) == scenario)
        }
        #expect(throws: FuzzScenarioError.self) { try FuzzScenario(parsing: "seed=x,passes=1") }
        do {
            _ = try FuzzScenario(parsing: "seed=1,passes=2,changes=0,drifts=0,reboots=0,rate=1,kinds=errno+bogus")
            Issue.record("an unknown fault kind was accepted")
        } catch {
            #expect(error.description.contains("bogus"))
        }
    }

    /// The bounded fuzz run of the test suite: a few thousand scenarios over
    /// the three Sources; every fault kind fires, histories replay, and
    /// nothing fails.
    @Test("bounded campaign", arguments: [(BuiltinSource.cgroup, 2000), (.sysctl, 1000), (.rtnl, 150), (.nftables, 500)])
    func boundedCampaign(source: BuiltinSource, scenarios: Int) async {
        let results = await source.fuzz(options: FuzzOptions(seed: 20_261_127, scenarios: scenarios, shrinkBudget: 20))
        let text = FuzzReporter.render(results) { "\($0)" }
        #expect(results.scenariosRun == scenarios)
        #expect(results.silentKinds.isEmpty, "\(text)")
        #expect(results.nondeterministic.isEmpty, "\(text)")
        for failure in results.failures {
            guard let detail = failure.failure else { continue }
            Issue.record("\(source) \(failure.scenario)\n\(detail)")
        }
    }

    @Test("every scenario of the regression corpus replays", arguments: BuiltinSource.allCases)
    func corpus(source: BuiltinSource) async throws {
        let lines = try Self.corpus(source)
        #expect(!lines.isEmpty)
        for line in lines {
            let scenario = try FuzzScenario(parsing: line)
            let outcome = await source.replay(scenario, maxPasses: 5)
            guard let failure = outcome.failure else { continue }
            Issue.record("\(source) \(scenario)\n\(failure)")
        }
    }

    @Test("one scenario run twice gives one history; another seed gives another")
    func determinism() async {
        let scenario = FuzzScenario(
            seed: 5, faultPasses: 10, changes: 2, drifts: 2, reboots: 1, ratePercent: 10,
            kinds: FuzzScenario.planKinds)
        let a = await FuzzRunner.run(RtnlSimSubject(), scenario: scenario, maxPasses: 5, traced: true)
        let b = await FuzzRunner.run(RtnlSimSubject(), scenario: scenario, maxPasses: 5, traced: true)
        var other = scenario
        other.seed = 6
        let c = await FuzzRunner.run(RtnlSimSubject(), scenario: other, maxPasses: 5, traced: true)
        #expect(a.history != nil && a.history == b.history)
        #expect(a.history != c.history)
        var sysctl = scenario
        sysctl.kinds = [.errno]
        #expect(await FuzzCampaign.isDeterministic(SysctlSimSubject(), sysctl, maxPasses: 5))
    }

    @Test("a campaign in which a fault kind never fired does not pass")
    func silentKindFails() async throws {
        let available: Set<SimFaultKind> = [.errno, .drift, .reboot]
        let seed = try #require((UInt64(1)...500).first {
            FuzzScenario.draw(campaignSeed: $0, index: 0, available: available).reboots == 0
        })
        let results = await BuiltinSource.cgroup.fuzz(options: FuzzOptions(seed: seed, scenarios: 1))
        #expect(results.failures.isEmpty)
        #expect(results.silentKinds.contains(.reboot))
        #expect(!results.succeeded)
        #expect(FuzzReporter.render(results) { "\($0)" }.contains("never fired: reboot"))
    }

    static func corpus(_ source: BuiltinSource) throws -> [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let file = root.appendingPathComponent("Fixtures/fuzz-corpus/\(source.rawValue).txt")
        return try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
}

extension FuzzTests {
    /// Fuzzing proves it can fail: a Source that only lies when a write
    /// fails is caught, the failure shrinks, and its replay fails again.
    @Test("a Source that lies under faults is caught, shrunk and replayable")
    func catchesLiar() async throws {
        let subject = lyingCgroupSubject()
        let results = await FuzzCampaign.run(subject, options: FuzzOptions(seed: 4, scenarios: 200, shrinkBudget: 60))
        let first = try #require(results.failures.first, "200 scenarios never caught the lying Source")
        #expect(!results.succeeded)
        #expect(results.failures.allSatisfy { $0.failure?.message.contains("the report is not honest") == true })
        let shrunk = try #require(results.shrunk)
        #expect(shrunk.scenario.weight <= first.scenario.weight)
        #expect(shrunk.failure != nil)
        let text = FuzzReporter.render(results) { "linx fuzz --scenario '\($0)'" }
        #expect(text.contains("replay: linx fuzz --scenario '\(shrunk.scenario)'"))
        #expect(text.contains("FAIL lying-cgroup/sim scenario seed=\(first.scenario.seed)"))
        let replayed = await FuzzRunner.run(subject, scenario: try FuzzScenario(parsing: shrunk.scenario.description), maxPasses: 5)
        #expect(replayed.failure == shrunk.failure)
        // The honest Source passes the very same scenarios.
        let honest = await FuzzRunner.run(CgroupSimSubject(), scenario: first.scenario, maxPasses: 5)
        #expect(honest.failure == nil)
    }
}
