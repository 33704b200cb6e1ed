import LinxReconcile

/// Someone else changing the kernel (another agent, an operator with `ip`):
/// the same semantics and errnos as the backend, but no fault ever fires and
/// history marks the change as foreign. Reached through ``SimKernel/foreign``.
public struct SimForeignWriter: Sendable {
    let kernel: SimKernel

    /// Sends rtnetlink requests; every one is attempted.
    @discardableResult
    public func execute(_ requests: [RtnlRequest], in scope: NetnsScope = .current) -> [Result<Void, KernelError>] {
        kernel.state.withLock { s in requests.map { s.foreignRequest($0, in: scope) } }
    }

    /// Adds a route (EEXIST when its key exists).
    public func addRoute(_ route: Route, in scope: NetnsScope = .current) throws(KernelError) {
        try one(.addRoute(route), scope)
    }

    /// Creates or replaces a route.
    public func replaceRoute(_ route: Route, in scope: NetnsScope = .current) throws(KernelError) {
        try one(.replaceRoute(route), scope)
    }

    /// Deletes a route (ESRCH when missing).
    public func deleteRoute(_ route: Route, in scope: NetnsScope = .current) throws(KernelError) {
        try one(.deleteRoute(route), scope)
    }

    /// Adds an address (EEXIST when present, ENODEV for an unknown link).
    public func addAddress(_ address: InterfaceAddress, in scope: NetnsScope = .current) throws(KernelError) {
        try one(.addAddress(address), scope)
    }

    /// Deletes an address (EADDRNOTAVAIL when missing).
    public func deleteAddress(_ address: InterfaceAddress, in scope: NetnsScope = .current) throws(KernelError) {
        try one(.deleteAddress(address), scope)
    }

    /// Writes a sysctl (`key` dotted or slashed).
    public func writeSysctl(_ key: String, _ value: String, in scope: NetnsScope = .current) throws(KernelError) {
        let parsed: SysctlKey
        do { parsed = try SysctlKey(key) } catch { throw KernelError(.invalidArgument, error.description) }
        try kernel.state.withLock { s throws(KernelError) in
            do throws(KernelError) {
                try s.writeSysctl(parsed, value: value, in: scope)
                s.history.record(.foreign, scope, .sysctlWrite(parsed, value), .ok)
            } catch {
                s.history.record(.foreign, scope, .sysctlWrite(parsed, value), .failed(error))
                throw error
            }
        }
    }

    /// Writes a cgroup interface file.
    public func writeCgroup(_ file: String, _ value: String, in cgroup: String) throws(KernelError) {
        try kernel.state.withLock { s throws(KernelError) in
            let action = SimHistoryEntry.Action.cgroup(.cgroupWrite, file: file, value: value, cgroup: cgroup)
            do throws(KernelError) {
                try s.writeCgroup(file, value: value, in: cgroup)
                s.history.record(.foreign, nil, action, .ok)
            } catch {
                s.history.record(.foreign, nil, action, .failed(error))
                throw error
            }
        }
    }

    private func one(_ request: RtnlRequest, _ scope: NetnsScope) throws(KernelError) {
        let result = kernel.state.withLock { s in s.foreignRequest(request, in: scope) }
        if case .failure(let error) = result { throw error }
    }
}

extension SimKernel {
    /// A writer acting as someone else: same semantics, no faults.
    public var foreign: SimForeignWriter { SimForeignWriter(kernel: self) }
}

extension SimState {
    mutating func foreignRequest(_ request: RtnlRequest, in scope: NetnsScope) -> Result<Void, KernelError> {
        let result = apply(request, in: scope)
        switch result {
        case .success: history.record(.foreign, scope, .request(request), .ok)
        case .failure(let error): history.record(.foreign, scope, .request(request), .failed(error))
        }
        return result
    }
}
