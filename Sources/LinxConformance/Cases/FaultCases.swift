import LinxReconcile

/// The cases that need the kernel to misbehave: partial passes must be
/// reported honestly, and convergence must follow once the faults stop.
extension CaseRun {
    /// Passes under transient faults, over changing desired states, each
    /// audited; after the faults stop the Source converges within
    /// `options.convergenceBound` passes.
    mutating func convergesAfterFaults() async throws {
        var foreign = try await makeForeign(avoiding: subject.emptyDesired)
        try await startFaults()
        var lastApplied = subject.emptyLastApplied
        var desired = subject.validDesired(in: sandbox, using: &random)
        for index in 1...options.faultPasses {
            if index % 3 == 0 { desired = subject.validDesired(in: sandbox, using: &random) }
            if let done = try await faultyPass(desired, lastApplied: lastApplied, step: "faulty pass \(index)") {
                lastApplied = done.report.lastApplied
            }
        }
        foreign.merge(try await makeForeign(avoiding: desired)) { _, new in new }
        try await endFaults()
        var passes = 0
        while true {
            passes += 1
            let step = "quiet pass \(passes)"
            let quiet = try await pass(desired, lastApplied: lastApplied, step: step)
            lastApplied = quiet.report.lastApplied
            if quiet.report.converged {
                try expectConverged(quiet, desired: desired, step: step)
                try expectForeignIntact(foreign, in: quiet.after, step: step)
                return
            }
            if passes >= options.convergenceBound {
                throw CaseFailure(
                    "still not converged \(passes) passes after the faults stopped (bound \(options.convergenceBound))",
                    evidence: Self.lines(of: quiet.report))
            }
        }
    }

    /// Under faults, every report names one strategy, keeps its shape
    /// (best-effort: nothing pending; fail-fast: one failure, the rest
    /// pending and untouched; staged: a failure stopped it, the rest pending
    /// and untouched), and the faults really made ops fail.
    mutating func strategyReportedConsistently() async throws {
        try await startFaults()
        var lastApplied = subject.emptyLastApplied
        var strategies = Set<ApplyStrategy>()
        var sawFailure = false
        var index = 0
        while index < options.faultPasses * 4 && !(sawFailure && index >= options.faultPasses) {
            index += 1
            let desired = subject.validDesired(in: sandbox, using: &random)
            guard let done = try await faultyPass(desired, lastApplied: lastApplied, step: "faulty pass \(index)") else {
                continue
            }
            lastApplied = done.report.lastApplied
            strategies.insert(done.report.strategy)
            if !done.report.failed.isEmpty { sawFailure = true }
        }
        try await endFaults()
        if strategies.count > 1 {
            throw CaseFailure("the Source reported more than one strategy: \(strategies.map(\.rawValue).sorted())")
        }
        if !sawFailure {
            throw CaseFailure(
                "no op failed in \(index) passes under injected faults, so the strategy went unchecked; make the subject's faults bite")
        }
    }

    /// One audited pass while faults are on. A pass that could not run at all
    /// is allowed (nil): it must then have changed nothing.
    func faultyPass(_ desired: Desired, lastApplied: LastApplied, step: String) async throws -> Pass? {
        let before = try await snapshot()
        do {
            return try await attempt(desired, lastApplied: lastApplied, step: step)
        } catch let notRun as PassDidNotRun {
            if case .invalidDesired = notRun.error {
                throw CaseFailure("\(step): a valid desired state was rejected: \(notRun.error)")
            }
            let changes = before.describeChanges(to: try await snapshot())
            if !changes.isEmpty {
                throw CaseFailure(
                    "\(step): the pass threw (\(notRun.error)), so it must have applied nothing, but the scope changed",
                    evidence: changes)
            }
            return nil
        }
    }

    mutating func startFaults() async throws {
        do {
            try await subject.injectFaults(in: sandbox, using: &random)
        } catch let skip as ConformanceSkip {
            throw skip
        } catch {
            throw CaseFailure("the subject could not inject faults: \(error)")
        }
    }

    func endFaults() async throws {
        do {
            try await subject.stopFaults(in: sandbox)
        } catch {
            throw CaseFailure("the subject could not stop its faults: \(error)")
        }
    }
}
