import HostsSourceExample
import LinxConformance
import Testing

/// Nothing the user owns is ever deleted: an entry that was there before
/// the Source wanted it is not the Source's. The suite's ownership oracle
/// catches an applied release of one, in every conformance case and in
/// fuzzing, even when nothing about it is foreign state the suite made.
@Suite("Releases and writes of state the Source never owned are caught")
struct UnownedStateIsCaughtTests {
    let deleting = BrokenSubject(name: "hosts-deletes-boot-entry", broken: DeletesBootEntryHostsSource())
    let overwriting = BrokenSubject(name: "hosts-overwrites-boot-entry", broken: OverwritesBootEntryHostsSource())

    @Test(
        "a Source that deletes a boot entry it never made fails every case that runs a pass",
        arguments: [true, false])
    func deleteCaughtByConformance(readsOwnership: Bool) async {
        var subject = deleting
        subject.readsOwnership = readsOwnership
        let results = await Conformance.run(subject)
        let table = TableReporter.render([results])
        #expect(!results.succeeded, "\(table)")
        let first = results[ConformanceCase.firstPassConverges.id]
        guard case .failed(let failure)? = first?.outcome else {
            Issue.record("first-pass-converges passed\n\(table)")
            return
        }
        #expect("\(failure)".contains("applied - localhost"), "\(failure)")
        #expect("\(failure)".contains("a Source must never delete what it cannot prove it owns"), "\(failure)")
        for testCase in [ConformanceCase.foreignStateUntouched, .releaseRemovesExactlyIt, .secondPassAppliesNothing] {
            #expect(results[testCase.id]?.outcome.isFailure == true, "\(testCase.id)\n\(table)")
        }
    }

    @Test("Fuzz.check catches the same Source", arguments: [true, false])
    func deleteCaughtByFuzzing(readsOwnership: Bool) async {
        var subject = deleting
        subject.readsOwnership = readsOwnership
        do {
            try await Fuzz.check(subject, options: FuzzOptions(seed: 1, scenarios: 300, shrinkBudget: 20))
            Issue.record("the Source that deletes localhost passed fuzzing")
        } catch {
            #expect(error.description.contains("deleted localhost, which was there before this pass"), "\(error.description)")
        }
    }

    @Test("a Source that rewrites an entry no desired state names is caught", arguments: [true, false])
    func overwriteCaught(readsOwnership: Bool) async {
        var subject = overwriting
        subject.readsOwnership = readsOwnership
        let result = await Conformance.run(subject, case: .firstPassConverges)
        guard case .failed(let failure) = result.outcome else {
            Issue.record("first-pass-converges passed: \(result.outcome)")
            return
        }
        #expect("\(failure)".contains("wrote localhost, which was there before this pass"), "\(failure)")
    }

    /// The scratch Source the defects bend, and the example itself, release
    /// only what they made: no false alarm in conformance or fuzzing.
    @Test("the example Source, which releases only what it made, passes")
    func exampleStillPasses() async throws {
        let results = await Conformance.run(HostsSubject())
        #expect(results.succeeded, "\(TableReporter.render([results]))")
        try await Fuzz.check(HostsSubject(), options: FuzzOptions(seed: 2, scenarios: 300))
    }
}
