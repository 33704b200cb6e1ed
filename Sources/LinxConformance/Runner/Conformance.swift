import LinxKernelSim
import LinxReconcile

/// Runs the conformance suite.
///
/// ```swift
/// let results = await Conformance.run(HostsSubject())
/// print(TableReporter.render([results]))
/// ```
///
/// or, to make every case a test in your own suite:
///
/// ```swift
/// @Test(arguments: ConformanceCase.all)
/// func hosts(_ testCase: ConformanceCase) async throws {
///     try await Conformance.check(HostsSubject(), case: testCase)
/// }
/// ```
public enum Conformance {
    /// Runs every case the options select against `subject`, one fresh
    /// sandbox per case, one case after another.
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

    /// Runs one case against `subject`.
    public static func run<Subject: ConformanceSubject>(
        _ subject: Subject, case testCase: ConformanceCase, options: ConformanceOptions = ConformanceOptions()
    ) async -> CaseResult {
        let seed = caseSeed(run: options.seed, case: testCase)
        let clock = ContinuousClock()
        let start = clock.now
        let outcome = await outcome(of: testCase, subject: subject, seed: seed, options: options)
        return CaseResult(
            subject: subject.name, testCase: testCase, outcome: outcome, duration: clock.now - start, seed: seed,
            runSeed: options.seed)
    }

    /// Runs one case and throws its failure, for a Swift Testing (or XCTest)
    /// test per case. A skipped case returns normally; its reason is returned.
    @discardableResult
    public static func check<Subject: ConformanceSubject>(
        _ subject: Subject, case testCase: ConformanceCase, options: ConformanceOptions = ConformanceOptions()
    ) async throws(ConformanceCheckFailure) -> String? {
        let result = await run(subject, case: testCase, options: options)
        switch result.outcome {
        case .passed: return nil
        case .skipped(let reason): return reason
        case .failed(let failure): throw ConformanceCheckFailure(result: result, failure: failure)
        }
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
        if let needed = testCase.requires, !subject.capabilities.contains(needed) {
            return .skipped("\(subject.name) does not declare \(needed.rawValue)")
        }
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
        case .reportKeepsContract: try await reportKeepsContract()
        case .foreignStateUntouched: try await foreignStateUntouched()
        case .foreignSurvivesEmptyDesired: try await foreignSurvivesEmptyDesired()
        case .foreignSurvivesLostLastApplied: try await foreignSurvivesLostLastApplied()
        case .releaseRemovesExactlyIt: try await releaseRemovesExactlyIt()
        case .driftHealedInOnePass: try await driftHealedInOnePass()
        case .invalidDesiredRejected: try await invalidDesiredRejected()
        case .convergesAfterFaults: try await convergesAfterFaults()
        case .strategyReportedConsistently: try await strategyReportedConsistently()
        case .changeYieldsHint: try await changeYieldsHint()
        case .overflowYieldsResync: try await overflowYieldsResync()
        case .loopHealsDrift: try await loopHealsDrift()
        case .loopSurvivesErrorPasses: try await loopSurvivesErrorPasses()
        default: throw CaseFailure("case \(testCase.id) has no body in this version of LinxConformance")
        }
    }
}

/// A case that failed under ``Conformance/check(_:case:options:)``; its
/// description is the whole failure, seed included.
public struct ConformanceCheckFailure: Error, Sendable, CustomStringConvertible {
    public var result: CaseResult
    public var failure: CaseFailure

    public var description: String {
        "\(result.subject): \(result.testCase.title) [\(result.testCase.id), run seed \(result.runSeed), case seed \(result.seed)]\n\(failure)"
    }
}
