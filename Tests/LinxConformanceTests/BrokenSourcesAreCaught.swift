import HostsSourceExample
import LinxConformance
import LinxReconcile
import Testing

/// The suite proves it can fail: each deliberately broken Source is caught
/// by the cases meant for its flaw, while cases about other behaviour pass.
@Suite("Broken Sources are caught")
struct BrokenSourcesAreCaught {
    func results<S>(_ name: String, _ source: S, seed: UInt64 = 7) async -> ConformanceResults
    where
        S: ReconcileSource, S.Scope == HostsFile, S.Desired == [HostsEntry], S.LastApplied == Set<String>,
        S.Item == HostsEntry, S.Options == HostsSource.Options
    {
        await Conformance.run(BrokenSubject(name: name, broken: source), options: ConformanceOptions(seed: seed))
    }

    func expect(_ results: ConformanceResults, failing: [ConformanceCase], passing: [ConformanceCase]) {
        let table = TableReporter.render([results])
        for testCase in failing {
            #expect(results[testCase.id]?.outcome.isFailure == true, "\(testCase.id) should catch \(results.subject)\n\(table)")
        }
        for testCase in passing {
            #expect(results[testCase.id]?.outcome == .passed, "\(testCase.id) should pass for \(results.subject)\n\(table)")
        }
    }

    /// Its first pass deletes the store's boot entries too, which the
    /// ownership oracle catches in every case that runs a pass.
    @Test("a Source that deletes foreign state")
    func greedy() async {
        expect(
            await results("greedy", GreedyHostsSource()),
            failing: [
                .foreignStateUntouched, .foreignSurvivesEmptyDesired, .foreignSurvivesLostLastApplied,
                .firstPassConverges, .secondPassAppliesNothing,
            ],
            passing: [])
    }

    @Test("a Source whose second pass is not a no-op")
    func restless() async {
        expect(
            await results("restless", RestlessHostsSource()),
            failing: [.secondPassAppliesNothing, .reportKeepsContract],
            passing: [.firstPassConverges, .foreignStateUntouched, .invalidDesiredRejected])
    }

    @Test("a Source whose report lies about what it applied")
    func lying() async {
        expect(
            await results("lying", LyingHostsSource()),
            failing: [.releaseRemovesExactlyIt, .foreignSurvivesEmptyDesired],
            passing: [.firstPassConverges, .secondPassAppliesNothing, .invalidDesiredRejected])
    }

    /// The oracle reads lastApplied after every pass, so the very first
    /// pass that creates anything already shows the leak.
    @Test("a Source that loses its lastApplied")
    func forgetful() async {
        expect(
            await results("forgetful", ForgetfulHostsSource()),
            failing: [.firstPassConverges, .releaseRemovesExactlyIt, .foreignSurvivesEmptyDesired],
            passing: [])
    }

    @Test("a Source that does not validate its desired state")
    func careless() async {
        expect(
            await results("careless", CarelessHostsSource()),
            failing: [.invalidDesiredRejected],
            passing: [.firstPassConverges, .secondPassAppliesNothing, .foreignStateUntouched])
    }

    @Test("a Source that reports fail-fast but keeps going")
    func mislabelled() async {
        expect(
            await results("mislabelled", MislabelledHostsSource()),
            failing: [.strategyReportedConsistently],
            passing: [.firstPassConverges, .secondPassAppliesNothing, .foreignStateUntouched])
    }
}

/// rtnl keeps its address ownership in lastApplied and its route ownership
/// in the kernel (rtm_protocol); the rtnl subjects read both, so an address
/// a failed create left recorded as owned is caught.
@Suite("rtnl ownership is checked against the reports")
struct RtnlOwnershipCaught {
    @Test("an rtnl Source that owns the addresses it failed to add is caught on every default seed")
    func ownsFailedCreates() async {
        let subject = ownsFailedCreatesRtnlSubject()
        for index in 0..<ConformanceOptions.defaultSeedCount {
            let result = await Conformance.run(
                subject, case: .failedOpsKeepOwnership, options: ConformanceOptions(seed: UInt64(index), seedCount: 1))
            guard case .failed(let failure) = result.outcome else {
                Issue.record("failed-ops-keep-ownership missed it on seed \(index): \(result.outcome)")
                continue
            }
            #expect("\(failure)".contains("yet lastApplied now owns it"), "\(failure)")
        }
    }
}

/// The gallery: each defect a report can hide is caught by the case meant
/// for it on every seed the suite runs by default, and the same Source
/// without the defect passes that case on those seeds.
@Suite("Defects a report can hide are caught")
struct DefectGallery {
    @Test("caught by its case on every default seed", arguments: HostsDefect.allCases)
    func caught(_ defect: HostsDefect) async {
        let subject = BrokenSubject(name: "hosts-\(defect)", broken: DefectiveHostsSource(defect: defect))
        for index in 0..<ConformanceOptions.defaultSeedCount {
            let seed = UInt64(index)
            let result = await Conformance.run(
                subject, case: defect.catchingCase, options: ConformanceOptions(seed: seed, seedCount: 1))
            #expect(result.outcome.isFailure, "\(defect.catchingCase.id) missed \(defect) on seed \(seed)")
        }
    }

    @Test("without a defect, the same Source passes every case on the default seeds")
    func cleanBaseline() async {
        let subject = BrokenSubject(name: "hosts-scratch", broken: DefectiveHostsSource(defect: nil))
        let results = await Conformance.run(subject)
        #expect(results.succeeded && results.skipped == 0, "\(TableReporter.render([results]))")
        #expect(results.cases.allSatisfy { $0.seedsRun == ConformanceOptions.defaultSeedCount })
    }
}
