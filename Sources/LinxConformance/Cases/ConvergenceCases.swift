import LinxReconcile

/// The cases about reaching the desired state and staying there.
extension CaseRun {
    /// One pass from a fresh scope reaches a fresh desired state, honestly.
    mutating func firstPassConverges() async throws {
        _ = try await converge(step: "first pass")
    }

    /// Once converged, a pass with the returned lastApplied plans nothing,
    /// changes nothing and hands back the same lastApplied.
    mutating func secondPassAppliesNothing() async throws {
        let (desired, first, _) = try await converge(step: "first pass")
        let second = try await pass(desired, lastApplied: first.report.lastApplied, step: "second pass")
        try expectNoOp(second, after: first, step: "second pass")
    }

    /// Converged passes that report no op write nothing at all, not even
    /// the bytes already there: the subject's mutation journal must not move
    /// (checked after every pass whose report is empty, here several in a row).
    mutating func noOpPassWritesNothing() async throws {
        guard try await stamp() != nil else {
            throw CaseFailure("\(subject.name) declares mutationJournal but mutationStamp(of:) returned nil")
        }
        let (desired, first, _) = try await converge(step: "first pass")
        var previous = first
        for round in 1...options.rounds {
            let again = try await pass(desired, lastApplied: previous.report.lastApplied, step: "no-op pass \(round)")
            try expectNoOp(again, after: previous, step: "no-op pass \(round)")
            previous = again
        }
    }

    /// Several desired states in a row, each converged in one pass and
    /// confirmed by a no-op pass; lastApplied threads through, so what the
    /// previous state wanted and the next does not is released.
    mutating func reportKeepsContract() async throws {
        var foreign = try await makeForeign(avoiding: subject.emptyDesired)
        var lastApplied = subject.emptyLastApplied
        for round in 1...options.rounds {
            let desired = subject.validDesired(in: sandbox, using: &random)
            let step = "desired state \(round) of \(options.rounds)"
            let first = try await pass(desired, lastApplied: lastApplied, step: step)
            try expectConverged(first, desired: desired, step: step)
            let again = try await pass(desired, lastApplied: first.report.lastApplied, step: "\(step), again")
            try expectNoOp(again, after: first, step: "\(step), again")
            try expectForeignIntact(foreign, in: again.after, step: step)
            lastApplied = again.report.lastApplied
            foreign.merge(try await makeForeign(avoiding: desired)) { _, new in new }
        }
    }

    /// A pass that must have been a no-op: no ops, no change, same ownership.
    func expectNoOp(_ pass: Pass, after previous: Pass, step: String) throws {
        // Counts, not `planned` (which concatenates the three lists): this
        // runs at the end of every fuzzed scenario.
        let report = pass.report
        if !(report.applied.isEmpty && report.failed.isEmpty && report.pending.isEmpty) {
            throw CaseFailure(
                "\(step): planned \(pass.report.planned.count) ops on a converged scope; it must plan none",
                evidence: Self.lines(of: pass.report))
        }
        if pass.report.lastApplied != previous.report.lastApplied {
            throw CaseFailure("\(step): lastApplied changed on a pass that applied nothing")
        }
        let changes = pass.before.describeChanges(to: pass.after)
        if !changes.isEmpty {
            throw CaseFailure("\(step): the scope changed on a pass that reported nothing", evidence: changes)
        }
    }
}
