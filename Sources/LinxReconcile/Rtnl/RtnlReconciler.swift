/// Single-shot declarative reconciliation of addresses and routes in one
/// network namespace: observe once, diff, apply the minimal change in one
/// ordered, fail-fast batch.
///
/// It holds no state between passes: the caller threads ``RtnlLastApplied``
/// from each report into the next pass (or lets a `ReconcileLoop` do it).
/// Links are only read, to resolve names; creating interfaces is the
/// consumer's business.
///
/// Ownership: routes two-way by `rtm_protocol` (``RtnlOptions/routeProtocol``,
/// default 76); addresses three-way by ``RtnlLastApplied`` (or two-way by
/// IFA_PROTO when ``RtnlOptions/addressProtocol`` is set). Nothing else is
/// ever updated or deleted, including when the desired state is emptied.
///
/// Kernel answers that mean the object already is as wanted are counted as
/// applied and do not fail the pass:
/// - EEXIST adding an address: the very address (same interface, address,
///   prefix) is there;
/// - ESRCH deleting a route, EADDRNOTAVAIL deleting an address: it is gone;
/// - EEXIST adding a route, *only* when a re-read shows a route of ours with
///   that key and the wanted next hop (a concurrent writer using our tag).
///   When the key is held by a foreign route (another protocol), the create
///   fails with EEXIST and the foreign route is left alone: replacing it
///   would take over something we cannot prove is ours. The pass does not
///   converge until its owner removes it.
///
/// Deleting an owned IPv4 address that shares its subnet with a foreign
/// address is refused by the reconciler itself (EBUSY in `failed`): the
/// kernel would delete the foreign secondaries with a primary, and a dump
/// does not say which one is primary.
///
/// Removing an address also removes what the kernel hangs on it, such as
/// routes (foreign ones included) whose gateway only it made reachable:
/// that is the kernel's consequence of a removal the desired state asked for.
///
/// Any other refusal stops the pass: it is in `failed`, the ops after it are
/// `pending`, and the next pass re-plans from a fresh observation. An
/// interface that vanishes between observe and apply is such a refusal
/// (ENODEV), never a crash.
public struct RtnlReconciler: Sendable {
    /// The kernel this reconciler acts on.
    public let backend: any RtnlBackend

    /// A reconciler acting on `backend` (the simulated or the real kernel).
    public init(backend: any RtnlBackend) {
        self.backend = backend
    }

    /// Observes `scope` the way a pass does: one dump each of links,
    /// addresses, and routes tagged ``RtnlOptions/routeProtocol`` (the kernel
    /// filters them), interrupted dumps retried.
    ///
    /// - Throws: ``ReconcileError/scopeUnavailable(scope:reason:)`` when the
    ///   namespace does not exist, ``ReconcileError/observeFailed(resource:error:)``
    ///   when a dump fails.
    public func observe(in scope: NetnsScope, options: RtnlOptions = .default) async throws(ReconcileError) -> RtnlObserved {
        let links = try await dump("links", scope) { () async throws(KernelError) in
            try await backend.links(in: scope)
        }
        var addresses = try await dump("addresses", scope) { () async throws(KernelError) in
            try await backend.addresses(in: scope)
        }
        let filter = RouteFilter(proto: options.routeProtocol)
        var routes = try await dump("routes", scope) { () async throws(KernelError) in
            try await backend.routes(in: scope, matching: filter)
        }
        var names: [Int32: String] = [:]
        names.reserveCapacity(links.count)
        for link in links { names[link.index] = link.name }
        for i in addresses.indices { addresses[i].interfaceName = names[addresses[i].ifindex] }
        for i in routes.indices {
            if let index = routes[i].ifindex { routes[i].interfaceName = names[index] }
        }
        return RtnlObserved(links: links, addresses: addresses, routes: routes)
    }

    private func dump<T>(
        _ resource: String, _ scope: NetnsScope, _ body: () async throws(KernelError) -> T
    ) async throws(ReconcileError) -> T {
        do {
            return try await retryingInterruptedDumps(body)
        } catch where error.errno == .noSuchFileOrDirectory {
            throw .scopeUnavailable(scope: scope.description, reason: "the network namespace does not exist (\(error))")
        } catch {
            throw .observeFailed(resource: resource, error: error)
        }
    }

    /// Observes `scope` and computes the ops a pass would apply, without
    /// applying anything.
    ///
    /// - Throws: ``ReconcileError/invalidDesired(entry:reason:)`` naming the
    ///   first invalid entry (see ``RtnlNormalizer``), or an observe error.
    public func plan(
        in scope: NetnsScope, desired: RtnlDesiredState,
        lastApplied: RtnlLastApplied = .empty, options: RtnlOptions = .default
    ) async throws(ReconcileError) -> RtnlPlan {
        try options.validate()
        let observed = try await observe(in: scope, options: options)
        let resolved = try RtnlNormalizer.resolve(desired, links: observed.links, options: options)
        return Self.plan(observed: observed, desired: resolved, lastApplied: lastApplied, options: options)
    }

    /// The pure planning step: diffs a resolved desired state against an
    /// observation.
    public static func plan(
        observed: RtnlObserved, desired: RtnlResolvedState,
        lastApplied: RtnlLastApplied, options: RtnlOptions = .default
    ) -> RtnlPlan {
        var indices: [String: Int32] = [:]
        indices.reserveCapacity(observed.links.count)
        for link in observed.links { indices[link.name] = link.index }
        var owned = Set<InterfaceAddress.Key>()
        for key in lastApplied.addresses {
            guard let index = indices[key.interface] else { continue }
            owned.insert(.init(ifindex: index, address: key.address, prefixLength: key.prefixLength))
        }
        if let tag = options.addressProtocol {
            for address in observed.addresses where address.proto == tag { owned.insert(address.key) }
        }
        let addressOps = RtnlDiff.addresses(desired: desired.addresses, observed: observed.addresses, owned: owned)
        let routeOps = RtnlDiff.routes(desired: desired.routes, observed: observed.routes, protocol: options.routeProtocol)

        var ops: [ReconcileOp<RtnlObject>] = []
        ops.reserveCapacity(addressOps.count + routeOps.count)
        for op in addressOps where !op.isDelete { ops.append(op.rtnlMapped(RtnlObject.address)) }
        for op in routeOps where !op.isDelete { ops.append(op.rtnlMapped(RtnlObject.route)) }
        for op in routeOps where op.isDelete { ops.append(op.rtnlMapped(RtnlObject.route)) }
        let refused = refusedDeletes(addressOps, observed: observed.addresses, owned: owned)
        let addressDeletes = addressOps.lazy.filter(\.isDelete).map { $0.rtnlMapped(RtnlObject.address) }
        // Deletes refused at plan time go last, so they hold nothing else up.
        ops.append(contentsOf: addressDeletes.filter { refused[$0] == nil })
        ops.append(contentsOf: addressDeletes.filter { refused[$0] != nil })
        var plan = RtnlPlan(ops: ops, observed: observed, desired: desired, ownedAddresses: owned)
        plan.refused = refused
        return plan
    }

    /// IPv4 deletes that could take foreign addresses with them.
    ///
    /// With `promote_secondaries` off (the default), deleting the primary
    /// IPv4 address of a subnet deletes every secondary address of that
    /// subnet on the link. A dump does not say which address is primary, so
    /// an owned address that shares its subnet (same link, same prefix
    /// length) with any address we do not own is not deleted: the op fails
    /// with EBUSY and the pass reports it, until the foreign address is gone.
    static func refusedDeletes(
        _ ops: [ReconcileOp<InterfaceAddress>], observed: [InterfaceAddress], owned: Set<InterfaceAddress.Key>
    ) -> [ReconcileOp<RtnlObject>: KernelError] {
        var refused: [ReconcileOp<RtnlObject>: KernelError] = [:]
        for op in ops {
            guard case .delete(let doomed) = op, doomed.family == .ipv4 else { continue }
            let subnet = doomed.address.masked(to: doomed.prefixLength)
            let neighbours = observed.filter { other in
                other.ifindex == doomed.ifindex && other.family == .ipv4 && other.prefixLength == doomed.prefixLength
                    && other.key != doomed.key && !owned.contains(other.key)
                    && other.address.masked(to: other.prefixLength) == subnet
            }
            guard !neighbours.isEmpty else { continue }
            let names = neighbours.map { "\($0.address)/\($0.prefixLength)" }.joined(separator: ", ")
            refused[op.rtnlMapped(RtnlObject.address)] = KernelError(
                .resourceBusy,
                "not deleted: it shares its subnet with foreign address \(names), which the kernel would delete "
                    + "with it if it is the primary (promote_secondaries off)")
        }
        return refused
    }

    /// Runs one pass: observe, validate, diff, apply (fail-fast, one batch),
    /// and returns the report with the ownership record for the next pass.
    ///
    /// - Throws: ``ReconcileError`` only when the pass could not run at all
    ///   (invalid desired state, missing namespace, a failed dump); nothing
    ///   was applied then. Kernel refusals of individual ops are in the
    ///   report.
    public func reconcile(
        in scope: NetnsScope, desired: RtnlDesiredState,
        lastApplied: RtnlLastApplied = .empty, options: RtnlOptions = .default
    ) async throws(ReconcileError) -> ReconcileReport<RtnlObject, RtnlLastApplied> {
        let plan = try await plan(in: scope, desired: desired, lastApplied: lastApplied, options: options)
        return await apply(plan, in: scope, options: options)
    }

    /// Applies a plan made by ``plan(in:desired:lastApplied:options:)``:
    /// all its ops in one fail-fast batch.
    public func apply(
        _ plan: RtnlPlan, in scope: NetnsScope, options: RtnlOptions = .default
    ) async -> ReconcileReport<RtnlObject, RtnlLastApplied> {
        let outcome = await RtnlApplier(backend: backend, scope: scope, options: options).run(plan.ops, refused: plan.refused)
        return ReconcileReport(
            applied: outcome.applied, failed: outcome.failed, pending: outcome.pending,
            lastApplied: Self.ownership(after: plan, applied: outcome.applied),
            strategy: .failFast)
    }

    /// The addresses owned after a pass: those desired and now present, and
    /// those owned whose removal did not happen (so the next pass retries it).
    static func ownership(after plan: RtnlPlan, applied: [ReconcileOp<RtnlObject>]) -> RtnlLastApplied {
        var present = Set<InterfaceAddress.Key>()
        present.reserveCapacity(plan.observed.addresses.count)
        for address in plan.observed.addresses { present.insert(address.key) }
        for op in applied {
            guard case .address(let address) = op.item else { continue }
            if op.isDelete { present.remove(address.key) } else { present.insert(address.key) }
        }
        var names: [Int32: String] = [:]
        for link in plan.observed.links { names[link.index] = link.name }
        var owned = Set<RtnlLastApplied.AddressKey>()
        func record(_ key: InterfaceAddress.Key) {
            guard present.contains(key), let name = names[key.ifindex] else { return }
            owned.insert(.init(interface: name, address: key.address, prefixLength: key.prefixLength))
        }
        for address in plan.desired.addresses { record(address.key) }
        for key in plan.ownedAddresses { record(key) }
        // An owned key that is desired was recorded above; one that is not
        // desired stays only while still present (its delete failed or was
        // not reached).
        return RtnlLastApplied(addresses: owned)
    }
}

extension ReconcileOp {
    /// The same op over another item type (address or route into ``RtnlObject``).
    func rtnlMapped<T>(_ transform: (Item) -> T) -> ReconcileOp<T> {
        switch self {
        case .create(let item): .create(transform(item))
        case .update(let item, let previous): .update(transform(item), previous: transform(previous))
        case .delete(let item): .delete(transform(item))
        }
    }
}
