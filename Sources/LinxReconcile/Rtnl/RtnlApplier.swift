/// Applies a pass's rtnl ops stage by stage and sorts the outcome into
/// applied, failed and pending, exactly as the kernel answered.
///
/// Why stages: the real backend pipelines (thousands of requests in flight,
/// acks matched by sequence number), so when the kernel refuses one request
/// it has already carried out the ones sent behind it. "Stop at the first
/// failure" can only be true where the applier waits for every answer before
/// sending more, and waiting after each op would cost the pipelining. So the
/// applier waits at the plan's dependency points only: a stage is a run of
/// consecutive ops of one layer (address creates, route creates and updates,
/// route deletes, address deletes, in the plan's order; the primary swap's
/// early deletes make stages of their own). No op of a stage depends on
/// another of it, so a stage goes out pipelined (in batches of at most
/// ``batchLimit`` requests, to bound its memory) and every op of it is
/// attempted, whatever the kernel answers to the others; every answer is
/// read before the next stage is sent. A stage with a refusal is the
/// pass's last: `failed` holds each refusal of it, `applied` each op the
/// kernel carried out (wherever it stood in the stage), `pending` the later
/// stages, which the kernel never saw. So a delete never runs after a create
/// it depends on failed (make-before-break never breaks without the make),
/// and the report is exactly what the kernel did. The simulator runs the
/// same batches (`stopOnError: false`), so both kernels agree op for op.
struct RtnlApplier {
    let backend: any RtnlBackend
    let scope: NetnsScope
    let options: RtnlOptions

    struct Outcome {
        /// Complete once ``run(_:refused:)`` returns.
        var applied: [ReconcileOp<RtnlObject>] = []
        var failed: [FailedOp<RtnlObject>] = []
        var pending: [ReconcileOp<RtnlObject>] = []
        /// Addresses the kernel added on this pass's request (not those it
        /// answered EEXIST for: they were already there, someone else's).
        var added = Set<InterfaceAddress.Key>()
        /// Addresses this pass deleted, or found already gone.
        var removed = Set<InterfaceAddress.Key>()
        /// While every op so far was applied, `applied` is the plan's first
        /// `appliedInOrder` ops: kept as a count, and the report shares the
        /// plan's array (65,536 creates are 16 MB; a second copy doubled the
        /// peak memory of a cold pass).
        private var appliedInOrder = 0
        private var diverged = false

        /// Records `ops[position]` as applied, reading the op only when it
        /// must be kept: an op passed out of a buffer is copied for the call
        /// (and destroyed after it), and while nothing diverged an applied
        /// op is only counted.
        mutating func recordApplied(at position: Int, of ops: UnsafeBufferPointer<ReconcileOp<RtnlObject>>) {
            if diverged { applied.append(ops[position]) } else { appliedInOrder += 1 }
        }

        /// Before an op of `ops` that was not applied.
        mutating func diverge(from ops: [ReconcileOp<RtnlObject>]) {
            guard !diverged else { return }
            diverged = true
            applied = Array(ops[..<appliedInOrder])
        }

        mutating func finish(_ ops: [ReconcileOp<RtnlObject>]) {
            guard !diverged else { return }
            applied = appliedInOrder == ops.count ? ops : Array(ops[..<appliedInOrder])
        }
    }

    /// The most requests handed to the backend in one `execute`.
    static let batchLimit = 8_192

    /// The dependency layers a plan's ops come in.
    enum Layer { case addressAdd, routeAdd, routeDelete, addressDelete }

    static func layer(of op: ReconcileOp<RtnlObject>) -> Layer {
        // Matched without binding, so no item is copied out of the op.
        switch op {
        case .delete(.address): .addressDelete
        case .delete(.route): .routeDelete
        case .create(.address), .update(.address, _): .addressAdd
        case .create(.route), .update(.route, _): .routeAdd
        }
    }

    /// Records the ops of a stage the kernel carried out, every one of them
    /// (the usual stage): each is applied, and an address op adds its key to
    /// `added` or `removed`.
    private static func recordCarriedOut(_ stage: ArraySlice<ReconcileOp<RtnlObject>>, into outcome: inout Outcome) {
        // Through the buffer: the slice's subscript copies each op out (its
        // strings retained and released), twice per op here.
        stage.withUnsafeBufferPointer { ops in
            for position in ops.indices {
                outcome.recordApplied(at: position, of: ops)
                switch ops[position] {
                case .delete(.address(let address)): outcome.removed.insert(address.key)
                case .create(.address(let address)), .update(.address(let address), _): outcome.added.insert(address.key)
                case .create(.route), .update(.route, _), .delete(.route): break
                }
            }
        }
    }

    /// What became of one op of a stage.
    private enum Verdict {
        case carriedOut
        /// Refused with an answer that means "already as wanted".
        case alreadyAsWanted
        case refused(KernelError)
        /// The backend returned no answer for it (it could not be sent).
        case notSent
    }

    /// Applies `ops` in order, one stage at a time; `refused` ops (refused by
    /// the reconciler at plan time) fail where they stand, unsent.
    func run(_ ops: [ReconcileOp<RtnlObject>], refused: [ReconcileOp<RtnlObject>: KernelError] = [:]) async -> Outcome {
        var outcome = Outcome()
        var start = 0
        while start < ops.count {
            let layer = Self.layer(of: ops[start])
            var end = start + 1
            while end < ops.count && Self.layer(of: ops[end]) == layer { end += 1 }
            let complete = await runStage(ops[start..<end], of: ops, refused: refused, into: &outcome)
            if !complete {
                outcome.pending.append(contentsOf: ops[end...])
                break
            }
            start = end
        }
        outcome.finish(ops)
        return outcome
    }

    /// Sends one stage as one batch and records every op's outcome. Returns
    /// false when the pass must stop after it (an op failed or was not sent).
    private func runStage(
        _ stage: ArraySlice<ReconcileOp<RtnlObject>>, of ops: [ReconcileOp<RtnlObject>],
        refused: [ReconcileOp<RtnlObject>: KernelError],
        into outcome: inout Outcome
    ) async -> Bool {
        // In batches of at most batchLimit requests, each answered before
        // the next goes: the requests of a 65,536-route stage at once are
        // 8 MB (and their answers 2 MB), while the kernel takes at most a
        // receive buffer's worth (about 2,000) in flight anyway. Every
        // request of the stage is still sent, whatever the answers; only a
        // batch the backend could not send in full ends it (the rest of the
        // stage is then never attempted, as for one short batch).
        var results: [Result<Void, KernelError>] = []
        var next = stage.startIndex
        while next < stage.endIndex {
            var batch: [RtnlRequest] = []
            batch.reserveCapacity(min(Self.batchLimit, stage.endIndex - next))
            // Through the buffer, as in recordCarriedOut: no op copied out
            // to be taken apart into its request.
            stage.withUnsafeBufferPointer { ops in
                let base = stage.startIndex
                while next < stage.endIndex && batch.count < Self.batchLimit {
                    if refused.isEmpty || refused[ops[next - base]] == nil { batch.append(Self.request(for: ops[next - base])) }
                    next += 1
                }
            }
            guard !batch.isEmpty else { continue }
            let answers = await backend.execute(batch, in: scope, stopOnError: false)
            if results.isEmpty { results = answers } else { results.append(contentsOf: answers) }
            if answers.count < batch.count { break }
        }
        if refused.isEmpty && results.count == stage.count && !results.contains(where: { if case .failure = $0 { true } else { false } }) {
            Self.recordCarriedOut(stage, into: &outcome)
            return true
        }
        var verdicts: [Verdict] = []
        verdicts.reserveCapacity(stage.count)
        var answered = 0
        var routeConflicts: [Int] = []
        // Through the buffer, as in recordCarriedOut: iterating the slice
        // copied every op out (a stage with a refusal is a fault pass's
        // usual stage).
        stage.withUnsafeBufferPointer { ops in
            for position in ops.indices {
                if !refused.isEmpty, let reason = refused[ops[position]] {
                    verdicts.append(.refused(reason))
                    continue
                }
                defer { answered += 1 }
                guard answered < results.count else {
                    verdicts.append(.notSent)
                    continue
                }
                guard case .failure(let error) = results[answered] else {
                    verdicts.append(.carriedOut)
                    continue
                }
                switch (ops[position], error.errno) {
                case (.create(.address), .fileExists), (.delete(.address), .addressNotAvailable),
                    (.delete(.route), .noSuchProcess):
                    verdicts.append(.alreadyAsWanted)
                case (.create(.route), .fileExists):
                    routeConflicts.append(verdicts.count)
                    verdicts.append(.refused(error))
                default:
                    verdicts.append(.refused(error))
                }
            }
        }
        if !routeConflicts.isEmpty {
            let ours = await oursAmong(routeConflicts.map { stage[stage.startIndex + $0] })
            for (position, isOurs) in zip(routeConflicts, ours) {
                guard case .refused(let error) = verdicts[position] else { continue }
                verdicts[position] = isOurs ? .alreadyAsWanted : .refused(Self.explainedConflict(error))
            }
        }
        var complete = true
        stage.withUnsafeBufferPointer { stageOps in
            for position in stageOps.indices {
                let verdict = verdicts[position]
                switch verdict {
                case .carriedOut, .alreadyAsWanted:
                    outcome.recordApplied(at: position, of: stageOps)
                    switch stageOps[position] {
                    case .delete(.address(let address)): outcome.removed.insert(address.key)
                    case .create(.address(let address)), .update(.address(let address), _):
                        if case .carriedOut = verdict { outcome.added.insert(address.key) }
                    case .create(.route), .update(.route, _), .delete(.route): break
                    }
                case .refused(let error):
                    outcome.diverge(from: ops)
                    outcome.failed.append(FailedOp(stageOps[position], error: error))
                    complete = false
                case .notSent:
                    outcome.diverge(from: ops)
                    outcome.pending.append(stageOps[position])
                    complete = false
                }
            }
        }
        return complete
    }

    static func request(for op: ReconcileOp<RtnlObject>) -> RtnlRequest {
        switch op {
        case .create(.address(let address)): .addAddress(address)
        case .update(.address(let address), _): .addAddress(address)
        case .delete(.address(let address)): .deleteAddress(address)
        case .create(.route(let route)): .addRoute(route)
        case .update(.route(let route), _): .replaceRoute(route)
        case .delete(.route(let route)): .deleteRoute(route)
        }
    }

    /// For route creates answered EEXIST, whether a route of ours with that
    /// key and next hop holds it (a concurrent writer using our tag) rather
    /// than a foreign one. One re-read per family and table involved.
    private func oursAmong(_ ops: [ReconcileOp<RtnlObject>]) async -> [Bool] {
        struct Table: Hashable { var family: AddressFamily, table: UInt32 }
        var found: [Table: [Route.Key: [Route]]?] = [:]
        var answers: [Bool] = []
        for op in ops {
            guard case .route(let wanted) = op.item else {
                answers.append(false)
                continue
            }
            let table = Table(family: wanted.family, table: wanted.table)
            if found[table] == nil {
                let filter = RouteFilter(family: wanted.family, table: wanted.table, proto: options.routeProtocol)
                let routes = try? await retryingInterruptedDumps { () async throws(KernelError) in
                    try await backend.routes(in: scope, matching: filter)
                }
                found[table] = routes.map { Dictionary(grouping: $0, by: \.key) }
            }
            let holders = found[table].flatMap { $0?[wanted.key] } ?? []
            answers.append(holders.contains { RtnlDiff.sameRoute(wanted, $0) })
        }
        return answers
    }

    /// Says why an EEXIST on a route create is a conflict, not a success.
    private static func explainedConflict(_ error: KernelError) -> KernelError {
        let note = "the route's key is held by a route that is not ours (or not as wanted); it is never replaced"
        return KernelError(error.errno, error.message.map { "\($0); \(note)" } ?? note)
    }
}
