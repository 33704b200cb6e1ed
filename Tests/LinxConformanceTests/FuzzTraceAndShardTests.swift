import Foundation
import HostsSourceExample
import LinxConformance
import LinxKernelSim
import Testing

@Suite("Fuzz traces, shards and third-party Sources")
struct FuzzTraceAndShardTests {
    @Test("a failure's trace names the pass and the key that diverged, with what was expected and what the scope holds")
    func traceNamesDivergingKeyAndPass() async throws {
        let results = await FuzzCampaign.run(
            cappingSysctlSubject(), options: FuzzOptions(seed: 3, scenarios: 200, shrinkBudget: 80))
        let shrunk = try #require(results.shrunk, "200 scenarios never caught the capping Source")
        let trace = try #require(shrunk.trace)
        let failure = try #require(trace.failure)
        let key = CappingSysctlSource.key
        let difference = try #require(failure.differences.first { $0.key == key }, "\(trace)")
        #expect(difference.actual == "4096")
        #expect(Int(difference.expected ?? "") ?? 0 > 4096)
        // The failing pass is in the trace, and it is the pass that claimed convergence.
        let pass = try #require(trace.passes.last)
        #expect(pass.step == failure.step)
        #expect(failure.step.hasPrefix("fault pass ") || failure.step.hasPrefix("quiet pass "))
        #expect(pass.report?.converged == true)
        #expect(failure.message.contains("report says converged") || failure.evidence.contains { $0.contains("report says converged") })
        // The desired value above the cap is visible in the trace: in full on the
        // first pass or as a change before the failing one.
        let wanted = "\(key) = \(difference.expected ?? "")"
        #expect(
            trace.passes.contains { pass in
                (pass.desired ?? []).contains { "\($0.key) = \($0.value)" == wanted }
                    || pass.desiredChanges.contains { $0.hasSuffix(wanted) || ($0.contains(key) && $0.hasSuffix("-> \(difference.expected ?? "")")) }
            }, "\(trace)")
        let text = trace.description
        #expect(text.contains("FAILED at \(failure.step)"))
        #expect(text.contains("\(key): expected \(difference.expected ?? ""), scope holds 4096"))
        // The honest Source passes the same scenario.
        #expect(await FuzzRunner.run(SysctlSimSubject(), scenario: shrunk.scenario, maxPasses: 5).failure == nil)
    }

    @Test("a traced pass lists faults fired, each op with its result or errno, the verdict and lastApplied")
    func traceContents() async throws {
        let scenario = try FuzzScenario(parsing: "seed=21,passes=16,changes=3,drifts=3,reboots=1,rate=12,kinds=errno")
        let outcome = await FuzzRunner.run(SysctlSimSubject(), scenario: scenario, maxPasses: 5, traced: true)
        let trace = try #require(outcome.trace)
        #expect(outcome.failure == nil && trace.failure == nil)
        #expect(trace.passes.count == outcome.passes)
        #expect(trace.passes.first?.desired?.isEmpty == false)
        #expect(trace.passes.contains { $0.faults.contains { $0.contains(" errno ") } })
        // A fault line is its step and what fired: the actor and the outcome
        // ("fault", "-> ok") would only repeat the line's label.
        #expect(trace.passes.allSatisfy { $0.faults.allSatisfy { !$0.contains("fault") && !$0.contains("->") } })
        #expect(!trace.description.contains("fault fault"))
        #expect(trace.passes.contains { $0.ops.contains { $0.result == "failed" && $0.error?.isEmpty == false } })
        #expect(trace.passes.contains { $0.events.contains { $0.hasPrefix("drift") } })
        #expect(trace.passes.contains { $0.events.contains { $0.hasPrefix("reboot") } })
        #expect(trace.passes.contains { !$0.desiredChanges.isEmpty })
        #expect(trace.passes.last?.step == "after convergence")
        #expect(trace.passes.contains { !$0.lastApplied.isEmpty })
        // Tools get the same trace as JSON.
        let json = try JSONEncoder().encode(trace)
        #expect(try JSONDecoder().decode(FuzzTrace.self, from: json) == trace)
        // Tracing observes; it does not change what runs.
        let plain = await FuzzRunner.run(SysctlSimSubject(), scenario: scenario, maxPasses: 5)
        #expect(plain.passes == outcome.passes && plain.fired == outcome.fired && plain.trace == nil)
    }

    @Test("the shards of a campaign run exactly its scenarios, none twice, and merge into its summary")
    func shardsAddUpToTheWhole() async throws {
        let whole = await FuzzCampaign.run(
            CgroupSimSubject(), options: FuzzOptions(seed: 11, scenarios: 45, determinismChecks: 0))
        var parts: [FuzzResults] = []
        for k in 1...4 {
            parts.append(await FuzzCampaign.run(
                CgroupSimSubject(),
                options: FuzzOptions(seed: 11, scenarios: 45, determinismChecks: 0, shard: try FuzzShard(k, of: 4))))
        }
        let ran = parts.flatMap(\.scenarioIndices)
        #expect(ran.count == Set(ran).count, "a scenario ran in two shards")
        #expect(ran.sorted() == whole.scenarioIndices)
        #expect(whole.scenarioIndices == Array(0..<45))
        #expect(parts.map(\.scenariosRun).reduce(0, +) == 45)

        let merged = try FuzzSummary.merge(parts.map { FuzzSummary($0) })
        let summary = try #require(merged.first)
        let reference = FuzzSummary(whole)
        #expect(merged.count == 1 && summary.isWholeCampaign)
        #expect(summary.scenariosRun == reference.scenariosRun)
        #expect(summary.digest == reference.digest)
        #expect(summary.passes == reference.passes)
        #expect(summary.fired == reference.fired)
        #expect(summary.failureCount == reference.failureCount)
        // The merged time is the parts' time summed, and the rate is over
        // that sum: the parts may have run one after another.
        let partSeconds = parts.map { FuzzSummary($0).seconds }.reduce(0, +)
        #expect(abs(summary.seconds - partSeconds) < 1e-9)
        #expect(abs(summary.scenariosPerSecond - 45 / partSeconds) < 1e-6)
        #expect(FuzzReporter.render(summary).contains("summed over 4 shards"))

        // Parts that are not one campaign do not merge.
        #expect(throws: FuzzMergeError.self) { try FuzzSummary.merge([FuzzSummary(parts[0]), FuzzSummary(parts[0])]) }
        var otherSeed = FuzzSummary(parts[1])
        otherSeed.seed = 12
        #expect(throws: FuzzMergeError.self) { try FuzzSummary.merge([FuzzSummary(parts[0]), otherSeed]) }
        var forged = FuzzSummary(parts[3])
        forged.digest &+= 1
        #expect(throws: FuzzMergeError.self) { try FuzzSummary.merge(parts.prefix(3).map { FuzzSummary($0) } + [forged]) }
        let partial = try FuzzSummary.merge(parts.prefix(3).map { FuzzSummary($0) })
        #expect(partial.first?.isWholeCampaign == false)

        #expect(throws: FuzzShardError.self) { try FuzzShard(parsing: "0/4") }
        #expect(throws: FuzzShardError.self) { try FuzzShard(parsing: "5/4") }
        #expect(throws: FuzzShardError.self) { try FuzzShard(parsing: "two/4") }
        #expect(try FuzzShard(parsing: "3/4") == FuzzShard(3, of: 4))
    }

    @Test("part results render as JUnit with a test case per failure, carrying its replay and trace path")
    func junit() async throws {
        let results = await FuzzCampaign.run(
            cappingSysctlSubject(), options: FuzzOptions(seed: 3, scenarios: 60, shrinkBudget: 10, shard: try FuzzShard(1, of: 2)))
        let summary = FuzzSummary(results, replay: "linx fuzz --scenario 'x'", tracePath: "/tmp/t.trace.txt")
        let xml = FuzzJUnitReporter.render([summary])
        #expect(xml.contains("<testsuite name=\"fuzz capping-sysctl/sim\""))
        #expect(xml.contains("shard 1/2"))
        #expect(xml.contains("replay: linx fuzz --scenario &apos;x&apos;"))
        #expect(xml.contains("trace: /tmp/t.trace.txt"))
        #expect(xml.components(separatedBy: "<failure ").count - 1 == 1 + summary.failures.count)
        let decoded = try JSONDecoder().decode(FuzzSummary.self, from: JSONEncoder().encode(summary))
        #expect(decoded == summary)
    }

    /// The hosts example Source, fuzzed the way its author would: one call
    /// from their own `swift test`.
    @Test("the hosts example Source passes a bounded fuzz campaign from swift test")
    func hostsSourceFuzzes() async throws {
        let results = try await Fuzz.check(HostsSubject(), options: FuzzOptions(seed: 1, scenarios: 300))
        #expect(results.scenariosRun == 300)
        #expect(results.fired[.errno, default: 0] > 0 && results.fired[.drift, default: 0] > 0)
        // Its lastApplied, a set of names, is described by the default: sorted,
        // so the campaign's determinism check (two runs, same lines) held above.
        #expect(HostsSubject().describe(["web", "db", "cache"]) == ["cache", "db", "web"])
    }

    @Test("Fuzz.check on a broken Source throws with the seed, the replay call and the trace")
    func checkFailureExplainsItself() async throws {
        do {
            try await Fuzz.check(cappingSysctlSubject(), options: FuzzOptions(seed: 3, scenarios: 100, shrinkBudget: 20))
            Issue.record("the capping Source passed")
        } catch {
            let shrunk = try #require(error.results.shrunk)
            #expect(error.description.contains("seed=\(shrunk.scenario.seed)"))
            #expect(error.description.contains("replay: try await Fuzz.check(subject, scenario: FuzzScenario(parsing: \"\(shrunk.scenario)\")"))
            #expect(error.description.contains("FAILED at "))
            let replayed = await Fuzz.replay(cappingSysctlSubject(), scenario: shrunk.scenario)
            #expect(replayed.trace == shrunk.trace)
        }
    }
}
