import LinxReconcile

/// The cases about ownership: what the Source did not make it never touches,
/// what it releases goes away, and nothing else does.
extension CaseRun {
    /// Foreign state made before and after convergence survives passes over
    /// two different desired states.
    mutating func foreignStateUntouched() async throws {
        var (_, pass, foreign) = try await converge(step: "first pass")
        try expectForeignIntact(foreign, in: pass.after, step: "first pass")
        let next = subject.validDesired(in: sandbox, using: &random)
        foreign.merge(try await makeForeign(avoiding: next)) { _, new in new }
        let second = try await self.pass(next, lastApplied: pass.report.lastApplied, step: "new desired state")
        try expectConverged(second, desired: next, step: "new desired state")
        try expectForeignIntact(foreign, in: second.after, step: "new desired state")
    }

    /// Emptying the desired state releases what the Source made (the oracle
    /// checks nothing it made is left) and nothing else.
    mutating func foreignSurvivesEmptyDesired() async throws {
        let (_, pass, foreign) = try await converge(step: "first pass")
        let empty = try await self.pass(subject.emptyDesired, lastApplied: pass.report.lastApplied, step: "empty desired")
        try expectConverged(empty, desired: subject.emptyDesired, step: "empty desired")
        try expectForeignIntact(foreign, in: empty.after, step: "empty desired")
        let again = try await self.pass(subject.emptyDesired, lastApplied: empty.report.lastApplied, step: "empty again")
        try expectNoOp(again, after: empty, step: "empty again")
    }

    /// A restart without lastApplied, facing an empty desired state, may only
    /// remove what the Source made itself (and can prove it made, such as
    /// routes carrying its protocol tag); then it re-converges, still
    /// leaving foreign state alone.
    mutating func foreignSurvivesLostLastApplied() async throws {
        var (desired, _, foreign) = try await converge(step: "first pass")
        foreign.merge(try await makeForeign(avoiding: desired)) { _, new in new }
        let restart = try await pass(subject.emptyDesired, lastApplied: subject.emptyLastApplied, step: "restart, empty desired")
        try expectForeignIntact(foreign, in: restart.after, step: "restart, empty desired")
        let made = subject.expectedEntries(for: desired, in: sandbox)
        var allowed = Set(made.keys)
        for op in restart.report.applied + restart.report.failed.map(\.op) {
            allowed.formUnion(subject.effect(of: op, in: sandbox).mayChange)
        }
        let unproven = restart.before.changedKeys(to: restart.after).subtracting(allowed)
        if !unproven.isEmpty {
            throw CaseFailure(
                "restart, empty desired: changed entries the Source never made",
                evidence: unproven.map { "\($0)" }.sorted())
        }
        let back = try await pass(desired, lastApplied: restart.report.lastApplied, step: "restart, same desired")
        try expectConverged(back, desired: desired, step: "restart, same desired")
        try expectForeignIntact(foreign, in: back.after, step: "restart, same desired")
    }

    /// Dropping one item from the desired state releases that item, exactly
    /// as the subject says a release looks, and leaves every other entry be.
    mutating func releaseRemovesExactlyIt() async throws {
        let (desired, first, foreign) = try await converge(step: "first pass")
        guard let release = subject.release(from: desired, in: sandbox, using: &random) else {
            throw CaseFailure("the subject's release(from:) found nothing to release in a valid desired state")
        }
        let pass = try await self.pass(release.desired, lastApplied: first.report.lastApplied, step: "release \(release.label)")
        try expectConverged(pass, desired: release.desired, step: "release \(release.label)")
        var wrong: [String] = []
        for (key, value) in release.expected where pass.after[key] != value {
            wrong.append("\(key): is \(pass.after[key].map { "\($0)" } ?? "absent"), expected \(value.map { "\($0)" } ?? "absent")")
        }
        if !wrong.isEmpty {
            throw CaseFailure("release \(release.label): the released item is not released", evidence: wrong.sorted())
        }
        let allowed = Set(release.expected.keys).union(release.mayChange)
        let collateral = pass.before.changedKeys(to: pass.after).subtracting(allowed)
        if !collateral.isEmpty {
            throw CaseFailure(
                "release \(release.label): other entries changed too",
                evidence: pass.before.describeChanges(to: pass.after).filter { line in
                    collateral.contains { line.hasPrefix("\($0):") }
                })
        }
        try expectForeignIntact(foreign, in: pass.after, step: "release \(release.label)")
    }
}
