import LinxReconcile

/// The cases about a scope someone else changed, and desired states that
/// must never be applied.
extension CaseRun {
    /// A foreign writer's change to a converged scope is undone by the next
    /// pass, and whatever it added that the Source does not own stays.
    mutating func driftHealedInOnePass() async throws {
        var (desired, first, foreign) = try await converge(step: "first pass")
        var lastApplied = first.report.lastApplied
        for round in 1...options.rounds {
            let drift: Drift<Subject.EntryKey, Subject.EntryValue>
            do {
                drift = try await subject.drift(in: sandbox, desired: desired, using: &random)
            } catch let skip as ConformanceSkip {
                throw skip
            } catch {
                throw CaseFailure("the subject could not drift the scope: \(error)")
            }
            foreign.merge(drift.addedForeign) { _, new in new }
            knownForeign.formUnion(drift.addedForeign.keys)
            let step = "after drift \(round) (\(drift.label))"
            let heal = try await pass(desired, lastApplied: lastApplied, step: step)
            try expectConverged(heal, desired: desired, step: step)
            try expectForeignIntact(foreign, in: heal.after, step: step)
            lastApplied = heal.report.lastApplied
        }
    }

    /// Every invalid desired state throws `.invalidDesired` and changes
    /// nothing, even with owned state present that a bad diff would delete.
    mutating func invalidDesiredRejected() async throws {
        let invalid = subject.invalidDesired(in: sandbox)
        if invalid.isEmpty { throw CaseFailure("\(subject.name) lists no invalid desired states; list at least one: every Source must refuse bad input with .invalidDesired and apply nothing, and this case shows it does") }
        let (_, first, _) = try await converge(step: "first pass")
        for candidate in invalid {
            let before = try await snapshot()
            do {
                let report = try await source.reconcile(
                    scope: scope, desired: candidate.desired, lastApplied: first.report.lastApplied,
                    options: subject.options(for: sandbox))
                throw CaseFailure(
                    "invalid desired state (\(candidate.label)) was accepted", evidence: Self.lines(of: report))
            } catch let failure as CaseFailure {
                throw failure
            } catch ReconcileError.invalidDesired {
                // The expected refusal.
            } catch {
                throw CaseFailure(
                    "invalid desired state (\(candidate.label)): threw \(error), expected an invalidDesired error")
            }
            let after = try await snapshot()
            let changes = before.describeChanges(to: after)
            if !changes.isEmpty {
                throw CaseFailure(
                    "invalid desired state (\(candidate.label)) was rejected but the scope changed", evidence: changes)
            }
        }
    }
}
