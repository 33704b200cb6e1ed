/// Single-shot declarative reconciliation of addresses and routes in one
/// network namespace: observe once, diff, apply the minimal change in
/// ordered, fail-fast stages.
///
/// It holds no state between passes: the caller threads ``RtnlLastApplied``
/// from each report into the next pass (or lets a `ReconcileLoop` do it).
/// Links are only read, to resolve names; creating interfaces is the
/// consumer's business.
///
/// Ownership: routes two-way by `rtm_protocol` (``RtnlOptions/routeProtocol``,
/// default 76); addresses three-way by ``RtnlLastApplied``, which records only
/// addresses the kernel added at a pass's request (plus, when
/// ``RtnlOptions/addressProtocol`` is set, two-way by that IFA_PROTO tag).
/// A desired address that was already there is used, never recorded (unless
/// ``RtnlOptions/adoptExistingAddresses``). The kernel's own addresses
/// (loopback, IPv6 link-local, tagged 1-3 by the kernel) are never
/// owned or deleted. Nothing else is ever updated or deleted, including
/// when the desired state is emptied.
///
/// Kernel answers that mean the object already is as wanted are counted as
/// applied and do not fail the pass:
/// - EEXIST adding an address: the very address (same interface, address,
///   prefix) is there; it is someone else's, so it is not recorded as ours;
/// - ESRCH deleting a route, EADDRNOTAVAIL deleting an address: it is gone;
/// - EEXIST adding a route, *only* when a re-read shows a route of ours with
///   that key and the wanted next hop (a concurrent writer using our tag).
///   When the key is held by a foreign route (another protocol), the create
///   fails with EEXIST and the foreign route is left alone: replacing it
///   would take over something we cannot prove is ours. The pass does not
///   converge until its owner removes it.
///
/// Deleting an owned IPv4 address that is the primary of its subnet while
/// foreign secondaries share it is refused by the reconciler itself (EBUSY
/// in `failed`): the kernel would delete them with it. This relies on the
/// backend returning addresses in the kernel's dump order (a link's
/// primaries before its secondaries), as the real kernel does.
///
/// Removing an address also removes what the kernel hangs on it, such as
/// routes (foreign ones included) whose gateway only it made reachable:
/// that is the kernel's consequence of a removal the desired state asked for.
///
/// Any other refusal stops the pass at the end of its stage (a run of ops
/// of one layer, sent as one pipelined batch; see `RtnlApplier`): every
/// refusal of that stage is in `failed`, every op the kernel carried out is
/// in `applied` and recorded, the later stages are `pending` (the kernel
/// never saw them), and the next pass re-plans from a fresh observation. An
/// interface that vanishes between observe and apply is such a refusal
/// (ENODEV), never a crash.
public struct RtnlReconciler: Sendable {
    /// The kernel this reconciler acts on.
    public let backend: any RtnlBackend
    /// The last pass's inputs and plan: a pure cache, shared by copies.
    let memo: RtnlPassMemo

    /// A reconciler acting on `backend` (the simulated or the real kernel).
    public init(backend: any RtnlBackend) {
        self.backend = backend
        memo = RtnlPassMemo()
    }

    /// Observes `scope` the way a pass does: one dump each of links,
    /// addresses, and routes tagged ``RtnlOptions/routeProtocol`` (the kernel
    /// filters them), interrupted dumps retried.
    ///
    /// - Throws: ``ReconcileError/scopeUnavailable(scope:reason:)`` when the
    ///   namespace does not exist, ``ReconcileError/observeFailed(resource:error:)``
    ///   when a dump fails.
    public func observe(in scope: NetnsScope, options: RtnlOptions = .default) async throws(ReconcileError) -> RtnlObserved {
        Self.named(try await observeRaw(in: scope, options: options))
    }

    func observeRaw(in scope: NetnsScope, options: RtnlOptions) async throws(ReconcileError) -> RtnlRawObservation {
        let links = try await observeLinks(in: scope)
        let (addresses, routes) = try await observeAddressesAndRoutes(in: scope, options: options).get()
        return RtnlRawObservation(links: links, addresses: addresses, routes: routes)
    }

    private func observeLinks(in scope: NetnsScope) async throws(ReconcileError) -> [Link] {
        try await dump("links", scope) { () async throws(KernelError) in
            try await backend.links(in: scope)
        }
    }

    private func observeAddressesAndRoutes(
        in scope: NetnsScope, options: RtnlOptions
    ) async -> Result<([InterfaceAddress], [Route]), ReconcileError> {
        do throws(ReconcileError) {
            let addresses = try await dump("addresses", scope) { () async throws(KernelError) in
                try await backend.addresses(in: scope)
            }
            let filter = RouteFilter(proto: options.routeProtocol)
            let routes = try await dump("routes", scope) { () async throws(KernelError) in
                try await backend.routes(in: scope, matching: filter)
            }
            return .success((addresses, routes))
        } catch {
            return .failure(error)
        }
    }

    /// Desired states with at least this many entries are validated while
    /// the kernel dumps addresses and routes (on another core): at 65,536
    /// routes each takes tens of milliseconds. Smaller ones are not worth a
    /// child task (a fuzzer runs thousands of small passes a second).
    static let concurrentResolutionThreshold = 2_048

    /// Fills in interface names, for reports; with `routes` false the
    /// routes are left as read (a plan names the routes in its ops only:
    /// naming every one copies 65,536 routes, 8 MB, for nothing).
    static func named(_ raw: RtnlRawObservation, routes namingRoutes: Bool = true) -> RtnlObserved {
        let names = names(raw.links)
        var addresses = raw.addresses
        for i in addresses.indices { addresses[i].interfaceName = names[addresses[i].ifindex] }
        guard namingRoutes else { return RtnlObserved(links: raw.links, addresses: addresses, routes: raw.routes) }
        var routes = raw.routes
        for i in routes.indices { name(&routes[i], names) }
        return RtnlObserved(links: raw.links, addresses: addresses, routes: routes)
    }

    private static func names(_ links: [Link]) -> [Int32: String] {
        var names: [Int32: String] = [:]
        RtnlNormalizer.reserve(&names, links.count)
        for link in links { names[link.index] = link.name }
        return names
    }

    private static func name(_ route: inout Route, _ names: [Int32: String]) {
        if route.interfaceName == nil, let index = route.ifindex { route.interfaceName = names[index] }
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
    /// - Throws: ``ReconcileError/invalidDesired(entry:reason:path:)`` naming the
    ///   first invalid entry (see ``RtnlNormalizer``), or an observe error.
    public func plan(
        in scope: NetnsScope, desired: RtnlDesiredState,
        lastApplied: RtnlLastApplied = .empty, options: RtnlOptions = .default
    ) async throws(ReconcileError) -> RtnlPlan {
        try options.validate()
        let links = try await observeLinks(in: scope)
        // Names resolve against this pass's links, so the desired state can
        // be checked as soon as they are read.
        let remembered = memo.resolution(desired: desired, options: options, links: links)
        var resolution = remembered.map { Result<(RtnlResolvedState, RtnlDesiredIndex), ReconcileError>.success($0) }
        let addresses: [InterfaceAddress], routes: [Route]
        let entries = (desired.addresses?.count ?? 0) + (desired.routes?.count ?? 0)
        if resolution == nil && entries >= Self.concurrentResolutionThreshold {
            async let rest = observeAddressesAndRoutes(in: scope, options: options)
            resolution = Result { () throws(ReconcileError) in
                try RtnlNormalizer.resolveIndexed(desired, links: links, options: options)
            }
            // A failed dump is reported before an invalid entry, as when the
            // two run one after the other.
            (addresses, routes) = try await rest.get()
        } else {
            (addresses, routes) = try await observeAddressesAndRoutes(in: scope, options: options).get()
        }
        let raw = RtnlRawObservation(links: links, addresses: addresses, routes: routes)
        if let plan = memo.plan(scope: scope, options: options, desired: desired, lastApplied: lastApplied, raw: raw) {
            return plan
        }
        let resolved: RtnlResolvedState, index: RtnlDesiredIndex
        if let resolution {
            (resolved, index) = try resolution.get()
        } else {
            (resolved, index) = try RtnlNormalizer.resolveIndexed(desired, links: links, options: options)
        }
        if remembered == nil {
            memo.remember(desired: desired, options: options, links: links, resolved: resolved, index: index)
        }
        let plan = Self.plan(
            observed: Self.named(raw, routes: false), desired: resolved, index: index, lastApplied: lastApplied, options: options)
        memo.remember(plan: plan, scope: scope, options: options, desired: desired, lastApplied: lastApplied, raw: raw)
        return plan
    }

    /// The pure planning step: diffs a resolved desired state against an
    /// observation.
    public static func plan(
        observed: RtnlObserved, desired: RtnlResolvedState,
        lastApplied: RtnlLastApplied, options: RtnlOptions = .default
    ) -> RtnlPlan {
        plan(observed: observed, desired: desired, index: RtnlDesiredIndex(desired), lastApplied: lastApplied, options: options)
    }

    static func plan(
        observed: RtnlObserved, desired: RtnlResolvedState, index: RtnlDesiredIndex,
        lastApplied: RtnlLastApplied, options: RtnlOptions
    ) -> RtnlPlan {
        let indices = RtnlNormalizer.indices(of: observed.links)
        var owned = Set<InterfaceAddress.Key>()
        // Whether `owned` is exactly the record, key for key (see RtnlPlan.record).
        var recordIsOwned = options.addressProtocol == nil
        for key in lastApplied.addresses {
            guard !AddressProtocol.isKernels(key.address, proto: nil), let index = indices[key.interface] else {
                recordIsOwned = false
                continue
            }
            owned.insert(.init(ifindex: index, address: key.address, prefixLength: key.prefixLength))
        }
        if let tag = options.addressProtocol {
            for address in observed.addresses where address.proto == tag { owned.insert(address.key) }
        }
        // Whatever a record says, an address the kernel made is never ours.
        for address in observed.addresses where AddressProtocol.isKernels(address.address, proto: address.proto) {
            if owned.remove(address.key) != nil { recordIsOwned = false }
        }
        // A kind the desired state does not manage plans nothing: absent is
        // not empty (an owned object of that kind is neither deleted nor
        // released; an owned address stays owned while present).
        let addressOps = !desired.managed.contains(.addresses) ? [] : RtnlDiff.addresses(
            desired: desired.addresses, index: index, observed: observed.addresses, owned: owned)
        // The routes an op carries get their interface names here (the
        // plan's observation may leave them unnamed).
        let names = names(observed.links)
        func named(_ route: Route) -> Route {
            var route = route
            name(&route, names)
            return route
        }
        var routeOps = !desired.managed.contains(.routes) ? [] : RtnlDiff.routes(
            desired: desired.routes, index: index, observed: observed.routes, protocol: options.routeProtocol,
            extra: addressOps.count, as: { RtnlObject.route(named($0)) })

        let refused = refusedDeletes(addressOps, observed: observed.addresses, owned: owned)
        let swap = RtnlPrimarySwap(
            addressOps: addressOps, refused: refused, observed: observed, desired: desired, index: index,
            routeOps: routeOps, routeProtocol: options.routeProtocol)

        // A primary whose subnet keeps desired addresses goes first (see RtnlPrimarySwap),
        // each followed at once by its subnet's creates (see RtnlPrimarySwap.interleaved).
        let addressPhase = swap.interleaved(creates: addressOps.lazy.filter { !$0.isDelete }.map(\.item))
        // Route ops come creates and updates first, then deletes, as the layer
        // order wants; but a delete the kernel could read as a wildcard goes
        // before the creates it could hit (see wildcardDeletes).
        let early = wildcardDeletes(routeOps, recreates: swap.routeRecreates)
        // By loops, not lazy filters: appending a lazy filter goes element
        // by element through its iterator.
        var addressDeletes: [ReconcileOp<RtnlObject>] = []
        for op in addressOps where op.isDelete && !swap.moves(op.item) { addressDeletes.append(op.rtnlMapped(RtnlObject.address)) }
        var ops: [ReconcileOp<RtnlObject>]
        if addressPhase.isEmpty && addressDeletes.isEmpty && swap.routeRecreates.isEmpty && early.isEmpty {
            // Routes only (the large states): the diff's array is the plan's,
            // not copied (a second array of 65,536 ops was a cold pass's
            // largest allocation, 8 MB).
            ops = routeOps
        } else if swap.routeRecreates.isEmpty && early.isEmpty {
            // The route ops stay in their array (moved, not copied) with the
            // address phase put in front of them.
            ops = routeOps
            routeOps = []
            ops.reserveCapacity(ops.count + addressPhase.count + addressDeletes.count)
            if !addressPhase.isEmpty { ops.insert(contentsOf: addressPhase, at: 0) }
            appendAddressDeletes(addressDeletes, refused: refused, to: &ops)
        } else {
            ops = []
            ops.reserveCapacity(addressOps.count + routeOps.count + swap.extraOps)
            ops.append(contentsOf: addressPhase)
            for position in early { ops.append(routeOps[position]) }
            for position in routeOps.indices where !routeOps[position].isDelete { ops.append(routeOps[position]) }
            for route in swap.routeRecreates { ops.append(.create(.route(named(route)))) }
            // The early deletes by position (ascending, as wildcardDeletes
            // gives them): the ops that are equal to one are exactly these,
            // since which deletes go early depends on the op alone.
            var nextEarly = 0
            for position in routeOps.indices where routeOps[position].isDelete {
                if nextEarly < early.count && early[nextEarly] == position {
                    nextEarly += 1
                    continue
                }
                ops.append(routeOps[position])
            }
            appendAddressDeletes(addressDeletes, refused: refused, to: &ops)
        }
        var plan = RtnlPlan(ops: ops, observed: observed, desired: desired, ownedAddresses: owned)
        plan.refused = refused
        if recordIsOwned { plan.record = lastApplied }
        if ops.isEmpty { plan.settled = ownership(after: plan, added: [], removed: [], options: options) }
        return plan
    }

    /// Appends a plan's address deletes: those refused at plan time last,
    /// so they hold nothing else up.
    private static func appendAddressDeletes(
        _ deletes: [ReconcileOp<RtnlObject>], refused: [ReconcileOp<RtnlObject>: KernelError],
        to ops: inout [ReconcileOp<RtnlObject>]
    ) {
        guard !deletes.isEmpty else { return }
        guard !refused.isEmpty else {
            ops.append(contentsOf: deletes)
            return
        }
        for op in deletes where refused[op] == nil { ops.append(op) }
        for op in deletes where refused[op] != nil { ops.append(op) }
    }

    /// IPv4 route deletes that the kernel may apply to a route we create in
    /// the same pass, as positions in `routeOps` (ascending).
    ///
    /// An IPv4 RTM_DELROUTE with metric 0 cannot say "metric 0": the kernel
    /// reads it as "any metric" and, when the metric-0 route is already gone
    /// (flushed with its gateway's subnet, say), removes the next route of the
    /// same table, prefix and tos that matches. Moving a route from metric 0
    /// to metric 10 creates the new route and deletes the old one; run in the
    /// layer order, that delete could remove the route just created. So such
    /// a delete runs before the creates of its prefix: then it can only match
    /// the old route or nothing (ESRCH, which counts as done).
    static func wildcardDeletes(
        _ routeOps: [ReconcileOp<RtnlObject>], recreates: [Route]
    ) -> [Int] {
        // Most passes delete no metric-0 IPv4 route: nothing to move, and
        // no set of the created prefixes to build. Matched in place in the
        // buffer, only a delete's route bound: `contains` handed its
        // closure a copy of every op (through the op's value witnesses).
        let wildcards = routeOps.withUnsafeBufferPointer { ops in
            for position in ops.indices {
                guard case .delete(.route(let route)) = ops[position] else { continue }
                if route.family == .ipv4 && route.metric == 0 { return true }
            }
            return false
        }
        guard wildcards else { return [] }
        struct Prefix: Hashable {
            var table: UInt32, destination: IPPrefix, tos: UInt8
            init(_ route: Route) { (table, destination, tos) = (route.table, route.destination, route.tos) }
            func _rawHashValue(seed: Int) -> Int {
                let (a, b) = destination.address.hashWords
                return WordHash.hash(
                    seed: seed, a, b, UInt64(table) << 32 | UInt64(tos), UInt64(truncatingIfNeeded: destination.length))
            }
        }
        var created = Set<Prefix>()
        for op in routeOps where !op.isDelete {
            if case .route(let route) = op.item, route.family == .ipv4, route.metric != 0 { created.insert(Prefix(route)) }
        }
        for route in recreates where route.family == .ipv4 && route.metric != 0 { created.insert(Prefix(route)) }
        guard !created.isEmpty else { return [] }
        return routeOps.indices.filter { position in
            guard case .delete(.route(let route)) = routeOps[position] else { return false }
            return route.family == .ipv4 && route.metric == 0 && created.contains(Prefix(route))
        }
    }

    /// IPv4 deletes that would take foreign addresses with them.
    ///
    /// With `promote_secondaries` off (the default), deleting the primary
    /// IPv4 address of a subnet on a link deletes every secondary address of
    /// that subnet (same prefix length) with it. The kernel dumps a link's
    /// primaries before its secondaries, so the first address of a subnet in
    /// dump order is its primary. An owned primary with foreign secondaries
    /// is not deleted: the op fails with EBUSY, until they are gone. An owned
    /// secondary is deleted as usual.
    static func refusedDeletes(
        _ ops: [ReconcileOp<InterfaceAddress>], observed: [InterfaceAddress], owned: Set<InterfaceAddress.Key>
    ) -> [ReconcileOp<RtnlObject>: KernelError] {
        let doomed = ops.compactMap { op -> InterfaceAddress? in
            guard case .delete(let address) = op, address.family == .ipv4 else { return nil }
            return address
        }
        guard !doomed.isEmpty else { return [:] }
        var subnets: [RtnlIPv4Subnet: [InterfaceAddress]] = [:]
        for address in observed where address.family == .ipv4 {
            subnets[RtnlIPv4Subnet(address), default: []].append(address)
        }
        var refused: [ReconcileOp<RtnlObject>: KernelError] = [:]
        for address in doomed {
            guard let members = subnets[RtnlIPv4Subnet(address)], members.first?.key == address.key else { continue }
            let foreign = members.dropFirst().filter { !owned.contains($0.key) }
            guard !foreign.isEmpty else { continue }
            let names = foreign.map { "\($0.address)/\($0.prefixLength)" }.joined(separator: ", ")
            refused[.delete(.address(address))] = KernelError(
                .resourceBusy,
                "not deleted: it is the primary address of its subnet and the kernel would delete the foreign "
                    + "secondary address \(names) with it (promote_secondaries off)")
        }
        return refused
    }

    /// Runs one pass: observe, validate, diff, apply (fail-fast stages),
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
    /// its ops in fail-fast stages, one pipelined batch each.
    public func apply(
        _ plan: RtnlPlan, in scope: NetnsScope, options: RtnlOptions = .default
    ) async -> ReconcileReport<RtnlObject, RtnlLastApplied> {
        let outcome = await RtnlApplier(backend: backend, scope: scope, options: options).run(plan.ops, refused: plan.refused)
        return ReconcileReport(
            applied: outcome.applied, failed: outcome.failed, pending: outcome.pending,
            lastApplied: plan.settled ?? Self.ownership(after: plan, added: outcome.added, removed: outcome.removed, options: options),
            strategy: .staged)
    }

    /// The addresses owned after a pass: those owned going in (recorded, or
    /// tagged with ``RtnlOptions/addressProtocol``) and those the kernel
    /// added at this pass's request, while they are still present. Owned
    /// addresses whose removal failed or was not reached stay, so the next
    /// pass retries it. A desired address that was already there, or that
    /// the kernel answered EEXIST for, is not ours (unless
    /// ``RtnlOptions/adoptExistingAddresses``); nor is one the kernel made.
    static func ownership(
        after plan: RtnlPlan, added: Set<InterfaceAddress.Key>, removed: Set<InterfaceAddress.Key>,
        options: RtnlOptions = .default
    ) -> RtnlLastApplied {
        // Nothing added or removed and every owned address still there: the
        // record going in is the record coming out (each of its keys maps to
        // one owned address and back, since distinct links have distinct
        // names and indices). Handing back the very value also keeps the
        // next pass's comparisons of it constant-time. (A handful of owned
        // addresses among a handful observed: compared, not hashed.)
        let keepsRecord = added.isEmpty && removed.isEmpty && !options.adoptExistingAddresses && plan.record != nil
        let few = plan.ownedAddresses.count * plan.observed.addresses.count <= 1_024
        if keepsRecord && few, plan.ownedAddresses.allSatisfy({ key in plan.observed.addresses.contains { $0.key == key } }) {
            return plan.record!
        }
        // Present after the pass: observed or added, and not removed. A
        // handful of keys looked up among a handful observed are compared
        // (as the names among the links), not hashed into sets.
        let lookups = plan.ownedAddresses.count + added.count
            + (options.adoptExistingAddresses ? plan.desired.addresses.count : 0)
        let small = lookups * (plan.observed.addresses.count + plan.observed.links.count) <= 1_024
        var present = Set<InterfaceAddress.Key>()
        var names: [Int32: String] = [:]
        if !small || (keepsRecord && !few) {
            present.reserveCapacity(plan.observed.addresses.count + added.count)
            for address in plan.observed.addresses { present.insert(address.key) }
            if keepsRecord && !few && plan.ownedAddresses.allSatisfy(present.contains) { return plan.record! }
            present.formUnion(added)
            present.subtract(removed)
            for link in plan.observed.links { names[link.index] = link.name }
        }
        func isPresent(_ key: InterfaceAddress.Key) -> Bool {
            guard small else { return present.contains(key) }
            if !removed.isEmpty && removed.contains(key) { return false }
            return (!added.isEmpty && added.contains(key)) || plan.observed.addresses.contains { $0.key == key }
        }
        func name(of index: Int32) -> String? {
            // The map keeps a repeated index's last link.
            guard small else { return names[index] }
            return plan.observed.links.last { $0.index == index }?.name
        }
        var owned = Set<RtnlLastApplied.AddressKey>()
        func record(_ key: InterfaceAddress.Key) {
            guard isPresent(key), let name = name(of: key.ifindex),
                !AddressProtocol.isKernels(key.address, proto: nil)
            else { return }
            owned.insert(.init(interface: name, address: key.address, prefixLength: key.prefixLength))
        }
        for key in plan.ownedAddresses { record(key) }
        for key in added { record(key) }
        if options.adoptExistingAddresses {
            for address in plan.desired.addresses { record(address.key) }
        }
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
