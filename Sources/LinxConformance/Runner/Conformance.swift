import LinxKernelSim
import LinxReconcile

/// Runs the conformance suite.
///
/// ```swift
/// let results = await Conformance.run(HostsSubject())
/// print(TableReporter.render([results]))
/// ```
///
/// or, to make every case a test in your own suite (Swift Testing):
///
/// ```swift
/// @Test(arguments: Conformance.runnableCases(HostsSubject()))
/// func hosts(_ testCase: ConformanceCase) async throws {
///     try await Conformance.check(HostsSubject(), case: testCase)
/// }
///
/// @Test(.disabled(Comment(rawValue: Conformance.skipSummary(HostsSubject()))))
/// func hostsCasesNotRunHere() {}
/// ```
///
/// Every case runs on ``ConformanceOptions/seedCount`` seeds; a failure
/// names its seed and the line that replays it.
public enum Conformance {
    /// Runs every case the options select against `subject`, one fresh
    /// sandbox per case and seed, one case after another.
    public static func run<Subject: ConformanceSubject>(
        _ subject: Subject, options: ConformanceOptions = ConformanceOptions()
    ) async -> ConformanceResults {
        var results: [CaseResult] = []
        for testCase in ConformanceCase.all
        where options.filter?.matches(subject: subject.name, case: testCase) ?? true {
            results.append(await run(subject, case: testCase, options: options))
        }
        return ConformanceResults(subject: subject.name, seed: options.seed, cases: results)
    }

    /// Runs one case against `subject` on each of the options' seeds,
    /// stopping at the first that fails (or skips).
    public static func run<Subject: ConformanceSubject>(
        _ subject: Subject, case testCase: ConformanceCase, options: ConformanceOptions = ConformanceOptions()
    ) async -> CaseResult {
        let clock = ContinuousClock()
        let start = clock.now
        if let reason = skipReason(subject, case: testCase) {
            return CaseResult(
                subject: subject.name, testCase: testCase, outcome: .skipped(reason), duration: clock.now - start,
                seed: caseSeed(run: options.seed, case: testCase), runSeed: options.seed, seedsRun: 0)
        }
        var outcome = CaseOutcome.passed
        var runSeed = options.seed
        var seedsRun = 0
        for index in 0..<options.seedCount {
            runSeed = options.seed &+ UInt64(index)
            seedsRun += 1
            outcome = await self.outcome(
                of: testCase, subject: subject, seed: caseSeed(run: runSeed, case: testCase), options: options)
            if outcome != .passed { break }
        }
        return CaseResult(
            subject: subject.name, testCase: testCase, outcome: outcome, duration: clock.now - start,
            seed: caseSeed(run: runSeed, case: testCase), runSeed: runSeed, seedsRun: seedsRun)
    }

    /// Runs one case and throws its failure, for a Swift Testing (or XCTest)
    /// test per case.
    ///
    /// A case the subject cannot run is known before it starts
    /// (``skipReason(_:case:)``): leave it out of the test's arguments with
    /// ``runnableCases(_:)`` and report it with ``skipSummary(_:)``, so it shows
    /// as skipped, never as passed. A case that skips only once it runs
    /// throws here too: Swift Testing cannot mark a started case skipped, and
    /// a skip must not read as a pass.
    @discardableResult
    public static func check<Subject: ConformanceSubject>(
        _ subject: Subject, case testCase: ConformanceCase, options: ConformanceOptions = ConformanceOptions()
    ) async throws(ConformanceCheckFailure) -> CaseResult {
        let result = await run(subject, case: testCase, options: options)
        if result.outcome == .passed { return result }
        throw ConformanceCheckFailure(result: result)
    }

    /// Why `testCase` cannot run against `subject` here (the subject is
    /// unavailable, or lacks the ability the case needs), or nil when it can.
    public static func skipReason<Subject: ConformanceSubject>(
        _ subject: Subject, case testCase: ConformanceCase
    ) -> String? {
        if let reason = subject.unavailableReason { return reason }
        if let needed = testCase.requires, !subject.capabilities.contains(needed) {
            return "\(subject.name) does not declare \(needed.rawValue)"
        }
        return nil
    }

    /// The cases `subject` can run here, in run order: the arguments of a
    /// parameterized test.
    public static func runnableCases<Subject: ConformanceSubject>(_ subject: Subject) -> [ConformanceCase] {
        ConformanceCase.all.filter { skipReason(subject, case: $0) == nil }
    }

    /// The cases `subject` cannot run here, each with its reason, on one
    /// line: the comment of a disabled test, so a test run lists them as
    /// skipped. Says so when every case runs.
    public static func skipSummary<Subject: ConformanceSubject>(_ subject: Subject) -> String {
        let skipped = ConformanceCase.all.compactMap { testCase in
            skipReason(subject, case: testCase).map { "\(testCase.id) (\($0))" }
        }
        if skipped.isEmpty { return "\(subject.name) runs every case; none skipped" }
        return "\(subject.name) skips \(skipped.count) of \(ConformanceCase.all.count) cases: \(skipped.joined(separator: "; "))"
    }

    /// The seed one case draws from: the run seed mixed with a stable hash
    /// of the case id, so cases do not share streams and a filter does not
    /// change any case's seed.
    public static func caseSeed(run seed: UInt64, case testCase: ConformanceCase) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in testCase.id.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        var mixer = SplitMix64(seed: seed ^ hash)
        return mixer.next()
    }

    private static func outcome<Subject: ConformanceSubject>(
        of testCase: ConformanceCase, subject: Subject, seed: UInt64, options: ConformanceOptions
    ) async -> CaseOutcome {
        let sandbox: Subject.Sandbox
        do {
            sandbox = try await subject.makeSandbox(seed: seed)
        } catch let skip as ConformanceSkip {
            return .skipped(skip.reason)
        } catch {
            return .failed(CaseFailure("could not make a sandbox: \(error)"))
        }
        var run = CaseRun(subject: subject, sandbox: sandbox, options: options, random: SimRandom(seed: seed))
        let outcome: CaseOutcome
        do {
            try await run.body(of: testCase)
            outcome = .passed
        } catch let skip as ConformanceSkip {
            outcome = .skipped(skip.reason)
        } catch let failure as CaseFailure {
            outcome = .failed(failure)
        } catch {
            outcome = .failed(CaseFailure("unexpected error: \(error)"))
        }
        await subject.tearDown(sandbox)
        return outcome
    }
}

extension CaseRun {
    /// Dispatches a case to its body.
    mutating func body(of testCase: ConformanceCase) async throws {
        switch testCase {
        case .firstPassConverges: try await firstPassConverges()
        case .secondPassAppliesNothing: try await secondPassAppliesNothing()
        case .noOpPassWritesNothing: try await noOpPassWritesNothing()
        case .reportKeepsContract: try await reportKeepsContract()
        case .foreignStateUntouched: try await foreignStateUntouched()
        case .foreignSurvivesEmptyDesired: try await foreignSurvivesEmptyDesired()
        case .foreignSurvivesLostLastApplied: try await foreignSurvivesLostLastApplied()
        case .releaseRemovesExactlyIt: try await releaseRemovesExactlyIt()
        case .driftHealedInOnePass: try await driftHealedInOnePass()
        case .invalidDesiredRejected: try await invalidDesiredRejected()
        case .convergesAfterFaults: try await convergesAfterFaults()
        case .strategyReportedConsistently: try await strategyReportedConsistently()
        case .failedOpsKeepOwnership: try await failedOpsKeepOwnership()
        case .changeYieldsHint: try await changeYieldsHint()
        case .overflowYieldsResync: try await overflowYieldsResync()
        case .loopHealsDrift: try await loopHealsDrift()
        case .loopSurvivesErrorPasses: try await loopSurvivesErrorPasses()
        default: throw CaseFailure("case \(testCase.id) has no body in this version of LinxConformance")
        }
    }
}

/// A case that failed (or skipped once started) under
/// ``Conformance/check(_:case:options:)``; its description is the whole
/// failure, with its seed and the line that replays it.
public struct ConformanceCheckFailure: Error, Sendable, CustomStringConvertible {
    public var result: CaseResult

    /// The failure, nil when the case skipped after it started.
    public var failure: CaseFailure? {
        if case .failed(let failure) = result.outcome { return failure }
        return nil
    }

    public var description: String {
        let head = "\(result.subject): \(result.testCase.title) [\(result.testCase.id), run seed \(result.runSeed), case seed \(result.seed)]"
        switch result.outcome {
        case .failed(let failure):
            return "\(head)\n\(failure)\nreplay: \(result.replay)"
        case .skipped(let reason):
            return "\(head)\nskipped once started: \(reason)\nSwift Testing cannot mark a started case skipped: declare it (a capability, or unavailableReason) so Conformance.runnableCases leaves it out"
        case .passed:
            return "\(head)\npassed"
        }
    }
}
