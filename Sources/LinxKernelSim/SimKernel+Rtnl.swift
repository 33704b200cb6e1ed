import LinxReconcile

/// rtnetlink through the backend protocol: faults apply, calls are logged.
extension SimKernel: RtnlBackend {
    /// Dumps the namespace's links, by index.
    public func links(in scope: NetnsScope) async throws(KernelError) -> [Link] {
        try dump(.linkDump, in: scope) { ns in ns.dumpedLinks() }
    }

    /// Dumps the namespace's addresses, both families, by key.
    public func addresses(in scope: NetnsScope) async throws(KernelError) -> [InterfaceAddress] {
        try dump(.addressDump, in: scope) { ns in ns.dumpedAddresses() }
    }

    /// Dumps the routes matching `filter`, in the store's order (fixed by the operation history).
    public func routes(in scope: NetnsScope, matching filter: RouteFilter) async throws(KernelError) -> [Route] {
        try dump(.routeDump, in: scope) { ns in ns.dumpedRoutes(filter) }
    }

    /// Sends the requests in order, one result each; with `stopOnError` it
    /// stops after the first failure and the rest are never sent (as the
    /// real backend does: see ``/LinxReconcile/RtnlBackend/execute(_:in:stopOnError:)``).
    public func execute(_ requests: [RtnlRequest], in scope: NetnsScope, stopOnError: Bool) async -> [Result<Void, KernelError>] {
        state.withLock { s in
            // The batch's events reach the monitors at its end, one lock per
            // monitor: a reader running meanwhile could only have taken some
            // sooner, a timing nobody can rely on.
            s.holdEvents(in: scope)
            defer { s.releaseEvents(in: scope) }
            var results: [Result<Void, KernelError>] = []
            results.reserveCapacity(requests.count)
            let refusal = s.midBatchRefusal(count: requests.count, scope: scope)
            for (position, request) in requests.enumerated() {
                let result: Result<Void, KernelError>
                if let refusal, refusal.position == position {
                    s.history.record(.backend, scope, .request(request), .failed(refusal.error))
                    result = .failure(refusal.error)
                } else {
                    result = s.backendRequest(request, in: scope)
                }
                results.append(result)
                if stopOnError, case .failure = result { break }
            }
            return results
        }
    }

    /// Follows what `scope` names: its identity now, then each change (nil
    /// when deleted); finished at once for the current namespace, and after
    /// nil for a pid scope (its process is gone for good).
    public func namespaceIdentities(of scope: NetnsScope) async -> AsyncStream<NamespaceIdentity?> {
        let (stream, continuation, id) = state.withLock { $0.names.watch(scope) }
        if let id {
            continuation.onTermination = { [weak self] _ in
                self?.state.withLock { $0.names.unwatch(scope, id: id) }
            }
        }
        return stream
    }

    /// Subscribes to the namespace's changes with a buffer of ``eventBufferCapacity`` events.
    public func events(in scope: NetnsScope) async throws(KernelError) -> AsyncThrowingStream<RtnlEvent, any Error> {
        try state.withLock { s throws(KernelError) in
            do throws(KernelError) {
                if let error = s.gate(.subscribe, scope: scope) { throw error }
                let subscriber = SimSubscriber<RtnlEvent>(capacity: s.eventCapacity)
                try s.withNetns(scope) { ns throws(KernelError) in ns.subscribers.append(subscriber) }
                s.history.record(.backend, scope, .subscribe, .ok)
                return subscriber.stream()
            } catch {
                s.history.record(.backend, scope, .subscribe, .failed(error))
                throw error
            }
        }
    }

    /// A dump with its faults (errno, interrupted) and its log line.
    private func dump<T: Collection & Sendable>(
        _ op: SimOperation, in scope: NetnsScope, _ body: (inout SimNetns) -> T
    ) throws(KernelError) -> T {
        try state.withLock { s throws(KernelError) in
            do throws(KernelError) {
                if let error = s.gate(op, scope: scope) { throw error }
                let result = try s.withNetns(scope) { ns throws(KernelError) in body(&ns) }
                s.history.record(.backend, scope, .dump(op), .count(result.count))
                return result
            } catch {
                s.history.record(.backend, scope, .dump(op), .failed(error))
                throw error
            }
        }
    }
}

extension SimState {
    /// One backend request: faults first, then the kernel's semantics.
    mutating func backendRequest(_ request: RtnlRequest, in scope: NetnsScope) -> Result<Void, KernelError> {
        let result: Result<Void, KernelError>
        if let error = gate(SimOperation(request), scope: scope, request: request) {
            result = .failure(error)
        } else {
            result = apply(request, in: scope)
        }
        switch result {
        case .success: history.record(.backend, scope, .request(request), .ok)
        case .failure(let error): history.record(.backend, scope, .request(request), .failed(error))
        }
        return result
    }

    /// The kernel's semantics for one request, no faults, not logged.
    mutating func apply(_ request: RtnlRequest, in scope: NetnsScope) -> Result<Void, KernelError> {
        do throws(KernelError) {
            try withNetns(scope) { ns throws(KernelError) in
                switch request {
                case .addAddress(let address): try ns.addAddress(address)
                case .deleteAddress(let address): try ns.deleteAddress(address)
                case .addRoute(let route): try ns.addRoute(route, replace: false)
                case .replaceRoute(let route): try ns.addRoute(route, replace: true)
                case .deleteRoute(let route): try ns.deleteRoute(route)
                }
            }
            return .success(())
        } catch {
            return .failure(error)
        }
    }
}
