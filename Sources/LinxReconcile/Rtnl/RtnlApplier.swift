/// Applies rtnl ops in one fail-fast batch and sorts the outcome into
/// applied, failed and pending.
///
/// The whole plan goes to the backend in one `execute` call (the real backend
/// pipelines it: many requests in flight, acks matched by sequence number).
/// When the batch stops on an answer that means "already as wanted" (see
/// ``RtnlReconciler``), the rest is sent as a new batch, so such answers
/// never cost the pass its remaining ops.
struct RtnlApplier {
    let backend: any RtnlBackend
    let scope: NetnsScope
    let options: RtnlOptions

    struct Outcome {
        var applied: [ReconcileOp<RtnlObject>] = []
        var failed: [FailedOp<RtnlObject>] = []
        var pending: [ReconcileOp<RtnlObject>] = []
    }

    /// Applies `ops` in order. What was applied is always a prefix of `ops`
    /// (fail-fast), so the outcome is built from one count and one failure.
    func run(_ ops: [ReconcileOp<RtnlObject>], refused: [ReconcileOp<RtnlObject>: KernelError] = [:]) async -> Outcome {
        guard !ops.isEmpty else { return Outcome() }
        let requests = ops.map(Self.request)
        // Refused ops stop the pass where they stand, like a kernel refusal.
        let stops = refused.isEmpty ? [] : ops.indices.filter { refused[ops[$0]] != nil }
        var done = 0
        var failure: FailedOp<RtnlObject>?
        sending: while done < ops.count {
            let limit = stops.first { $0 >= done } ?? ops.count
            if limit == done {
                failure = FailedOp(ops[done], error: refused[ops[done]]!)
                break
            }
            let batch = done == 0 && limit == ops.count ? requests : Array(requests[done..<limit])
            let results = await backend.execute(batch, in: scope, stopOnError: true)
            // A backend that answered nothing made no progress: stop rather
            // than loop; the rest is pending.
            guard !results.isEmpty else { break }
            for result in results {
                if case .failure(let error) = result, !(await isAlreadyAsWanted(ops[done], answer: error)) {
                    failure = FailedOp(ops[done], error: explained(error, for: ops[done]))
                    break sending
                }
                done += 1
            }
        }
        var outcome = Outcome(applied: done == ops.count ? ops : Array(ops[..<done]))
        if let failure {
            outcome.failed = [failure]
            outcome.pending = Array(ops[(done + 1)...])
        } else {
            outcome.pending = Array(ops[done...])
        }
        return outcome
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

    /// Whether a refusal means the object already is in the wanted state.
    private func isAlreadyAsWanted(_ op: ReconcileOp<RtnlObject>, answer error: KernelError) async -> Bool {
        switch (op, error.errno) {
        case (.create(.address), .fileExists):
            // An address is nothing but its key: the very address is there.
            return true
        case (.delete(.address), .addressNotAvailable), (.delete(.route), .noSuchProcess):
            return true
        case (.create(.route(let route)), .fileExists):
            return await isOurs(route)
        default:
            return false
        }
    }

    /// Re-reads the route's table to tell a route of ours (a concurrent
    /// writer with our tag) from a foreign one holding the same key.
    private func isOurs(_ wanted: Route) async -> Bool {
        let filter = RouteFilter(family: wanted.family, table: wanted.table, proto: options.routeProtocol)
        let routes: [Route]
        do {
            routes = try await retryingInterruptedDumps { () async throws(KernelError) in
                try await backend.routes(in: scope, matching: filter)
            }
        } catch {
            return false
        }
        return routes.contains { $0.key == wanted.key && RtnlDiff.sameRoute(wanted, $0) }
    }

    /// Says why an EEXIST on a route create is a conflict, not a success.
    private func explained(_ error: KernelError, for op: ReconcileOp<RtnlObject>) -> KernelError {
        guard case .create(.route) = op, error.errno == .fileExists else { return error }
        let note = "the route's key is held by a route that is not ours (or not as wanted); it is never replaced"
        return KernelError(error.errno, error.message.map { "\($0); \(note)" } ?? note)
    }
}
