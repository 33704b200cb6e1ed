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
        let quiet = try await settle(desired, lastApplied: lastApplied, step: "quiet pass")
        try expectForeignIntact(foreign, in: quiet.after, step: "quiet pass")
        // Whatever the faults did to its ownership, the Source must still be
        // able to release everything it made: the oracle checks nothing is left.
        let empty = try await pass(subject.emptyDesired, lastApplied: quiet.report.lastApplied, step: "empty desired, faults stopped")
        try expectConverged(empty, desired: subject.emptyDesired, step: "empty desired, faults stopped")
        try expectForeignIntact(foreign, in: empty.after, step: "empty desired, faults stopped")
    }

    /// Quiet passes until one converges, at most `options.convergenceBound`.
    mutating func settle(_ desired: Desired, lastApplied: LastApplied, step: String) async throws -> Pass {
        var lastApplied = lastApplied
        var passes = 0
        while true {
            passes += 1
            let label = "\(step) \(passes)"
            let quiet = try await pass(desired, lastApplied: lastApplied, step: label)
            lastApplied = quiet.report.lastApplied
            if quiet.report.converged {
                try expectConverged(quiet, desired: desired, step: label)
                return quiet
            }
            if passes >= options.convergenceBound {
                throw CaseFailure(
                    "still not converged \(passes) passes after the faults stopped (bound \(options.convergenceBound))",
                    evidence: Self.lines(of: quiet.report))
            }
        }
    }

    /// Under faults, over new desired states, releases and drift, until a
    /// create, an update and a release have each failed (or a bound): every
    /// pass's lastApplied must own what the Source made and nothing whose
    /// create failed (checked by the oracle after each pass), and once the
    /// faults stop, emptying the desired state must leave nothing it made.
    mutating func failedOpsKeepOwnership() async throws {
        var (desired, first, foreign) = try await converge(step: "first pass")
        var lastApplied = first.report.lastApplied
        try await startFaults()
        var failedKinds = Set<Character>()
        var converged = true
        var index = 0
        while index < options.faultPasses * 8 && failedKinds.count < 3 {
            index += 1
            var step = "faulty pass \(index)"
            // Drift disturbs a scope that holds its desired state.
            let canDrift = converged && !subject.expectedEntries(for: desired, in: sandbox).isEmpty
            switch random.below(3) {
            case _ where !canDrift, 0:
                desired = subject.validDesired(in: sandbox, using: &random)
                step += " (new desired state)"
            case 1:
                if let release = subject.release(from: desired, in: sandbox, using: &random) {
                    desired = release.desired
                    step += " (release \(release.label))"
                }
            default:
                let drift: Drift<Subject.EntryKey, Subject.EntryValue>
                do {
                    drift = try await subject.drift(in: sandbox, desired: desired, using: &random)
                } catch {
                    throw CaseFailure("the subject could not drift the scope: \(error)")
                }
                foreign.merge(drift.addedForeign) { _, new in new }
                knownForeign.formUnion(drift.addedForeign.keys)
                step += " (after drift: \(drift.label))"
            }
            converged = false
            if let done = try await faultyPass(desired, lastApplied: lastApplied, step: step) {
                lastApplied = done.report.lastApplied
                converged = done.report.converged
                for failed in done.report.failed { failedKinds.insert(failed.op.symbol) }
            }
        }
        try await endFaults()
        if failedKinds.isEmpty {
            throw CaseFailure("no op failed in \(index) passes under injected faults; make the subject's faults bite")
        }
        let quiet = try await settle(desired, lastApplied: lastApplied, step: "quiet pass")
        let empty = try await pass(subject.emptyDesired, lastApplied: quiet.report.lastApplied, step: "empty desired, faults stopped")
        try expectConverged(empty, desired: subject.emptyDesired, step: "empty desired, faults stopped")
        try expectForeignIntact(foreign, in: empty.after, step: "empty desired, faults stopped")
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
    mutating func faultyPass(_ desired: Desired, lastApplied: LastApplied, step: String) async throws -> Pass? {
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
