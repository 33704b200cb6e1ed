import LinxReconcile

/// Where faults meet backend operations: every backend call passes through
/// ``SimState/gate(_:scope:request:)`` first.
extension SimState {
    /// Fires whatever is armed for this operation and returns the error the
    /// operation must fail with, if any. Faults that change state (a racing
    /// writer, a vanishing link, drift, reboot) are applied here, before the
    /// operation runs.
    mutating func gate(_ op: SimOperation, scope: NetnsScope?, request: RtnlRequest? = nil) -> KernelError? {
        guard faults.isArmed else { return nil }
        if let scope, request != nil, !faults.vanishing.isEmpty, let i = faults.vanishing.firstIndex(where: { $0.scope == scope }) {
            let link = faults.vanishing.remove(at: i).link
            vanish(link, in: scope)
        }
        if let scope, let request, !faults.races.isEmpty, let left = faults.races[scope], left > 0 {
            if race(request, in: scope) {
                faults.races[scope] = left - 1 > 0 ? left - 1 : nil
            }
        }
        if op.isDump, faults.interrupts(op) {
            history.record(.fault, scope, .note("interruptedDump \(op.rawValue)"), .ok)
            return KernelError(.interrupted, "dump interrupted (NLM_F_DUMP_INTR)")
        }
        if let error = faults.errnoFault(for: op, rng: &rng) {
            history.record(.fault, scope, .note("errno \(op.rawValue) \(error.errno.symbolicName)"), .ok)
            return error
        }
        if let rate = faults.planRate, rng.chance(rate), let plan = faults.plan {
            return drawPlanned(plan, op, scope: scope, request: request)
        }
        return nil
    }

    /// One random fault from the plan that applies to this operation.
    private mutating func drawPlanned(_ plan: SimFaultPlan, _ op: SimOperation, scope: NetnsScope?, request: RtnlRequest?) -> KernelError? {
        // Read in place: a lookup through the subscript would copy the namespace.
        let (subscribed, hasLink) = scope.flatMap { scope in
            try? withNetns(scope) { ns throws(KernelError) in (!ns.subscribers.isEmpty, ns.links.count > 1) }
        } ?? (false, false)
        // The plan's kinds in declaration order, listed once when it was armed (no set lookups per draw).
        let applicable = faults.planKinds.filter { kind in
            switch kind {
            case .errno, .drift, .reboot: return true
            case .interruptedDump: return op.isDump
            case .eexistRace: return request.map { Self.isCreate($0) } ?? false
            case .vanish: return request != nil && hasLink
            case .overflow, .monitorDeath: return subscribed
            case .batchRefusal: return false  // drawn per batch: see midBatchRefusal(count:scope:)
            }
        }
        guard !applicable.isEmpty else { return nil }
        switch rng.pick(applicable) {
        case .errno:
            let errno = rng.pick(plan.errnos)
            faults.fired[.errno, default: 0] += 1
            history.record(.fault, scope, .note("errno \(op.rawValue) \(errno.symbolicName)"), .ok)
            return KernelError(errno, "injected fault")
        case .interruptedDump:
            faults.fired[.interruptedDump, default: 0] += 1
            history.record(.fault, scope, .note("interruptedDump \(op.rawValue)"), .ok)
            return KernelError(.interrupted, "dump interrupted (NLM_F_DUMP_INTR)")
        case .eexistRace:
            if let scope, let request { _ = race(request, in: scope) }
        case .vanish:
            if let scope, let names = try? withNetns(scope, { ns throws(KernelError) in
                ns.links.keys.sorted().compactMap { ns.links[$0]!.isLoopback ? nil : ns.links[$0]!.link.name }
            }), !names.isEmpty {
                vanish(rng.pick(names), in: scope)
            }
        case .overflow:
            if let scope { overflowSubscribers(in: scope) }
        case .monitorDeath:
            if let scope { killMonitors(in: scope, with: KernelError(.ioError, "monitor died")) }
        case .reboot:
            reboot()
        case .drift:
            drift(steps: rng.int(in: plan.driftSteps), in: scope ?? .current, cgroups: plan.cgroups)
        case .batchRefusal:
            break
        }
        return nil
    }

    /// For a batch of `count` requests, the position of the one to refuse
    /// and the error, when a scripted rule or the plan's `.batchRefusal`
    /// fires: never the first request (something precedes it in the batch)
    /// and, in batches of three or more, never the last (something follows).
    mutating func midBatchRefusal(count: Int, scope: NetnsScope) -> (position: Int, error: KernelError)? {
        guard count >= 2, faults.isArmed else { return nil }
        var error: KernelError?
        if let rule = faults.midBatch, rng.chance(rule.fraction) {
            error = rule.error
        } else if let plan = faults.plan, faults.planKinds.contains(.batchRefusal), rng.chance(plan.rate * 4) {
            error = KernelError(rng.pick(plan.errnos), "injected fault")
        }
        guard let error else { return nil }
        let position = count == 2 ? 1 : 1 + rng.below(count - 2)
        faults.fired[.batchRefusal, default: 0] += 1
        history.record(.fault, scope, .note("batchRefusal at \(position) of \(count) \(error.errno.symbolicName)"), .ok)
        return (position, error)
    }

    static func isCreate(_ request: RtnlRequest) -> Bool {
        switch request {
        case .addAddress, .addRoute: true
        default: false
        }
    }

    /// A concurrent writer creates exactly what `request` is about to create.
    /// Returns true when it did (so the request will meet EEXIST).
    @discardableResult
    mutating func race(_ request: RtnlRequest, in scope: NetnsScope) -> Bool {
        guard Self.isCreate(request), case .success = apply(request, in: scope) else { return false }
        faults.fired[.eexistRace, default: 0] += 1
        history.record(.fault, scope, .note("eexistRace: a concurrent writer created it first"), .ok)
        history.record(.foreign, scope, .request(request), .ok)
        return true
    }

    /// Deletes link `name` as if someone removed it (routes, addresses and
    /// sysctls go with it).
    mutating func vanish(_ name: String, in scope: NetnsScope) {
        let removed = try? withNetns(scope) { ns throws(KernelError) -> Bool in
            guard let index = ns.indexByName[name] else { return false }
            try ns.removeLink(index)
            return true
        }
        guard removed == true else { return }
        faults.fired[.vanish, default: 0] += 1
        history.record(.fault, scope, .note("vanish \(name)"), .ok)
    }

    /// Holds `scope`'s events until ``releaseEvents(in:)`` (see
    /// ``SimNetns/holdsEvents``): a batch of requests offers them to each
    /// monitor once, at its end.
    mutating func holdEvents(in scope: NetnsScope) {
        _ = try? withNetns(scope) { ns throws(KernelError) in
            ns.holdsEvents = true
            // Room for a heavy pass's events made once per namespace (it is
            // kept between batches), not grown event by event.
            if ns.heldEvents.capacity == 0, !ns.subscribers.isEmpty { ns.heldEvents.reserveCapacity(256) }
        }
    }

    /// Offers `scope`'s held events and stops holding.
    mutating func releaseEvents(in scope: NetnsScope) {
        _ = try? withNetns(scope) { ns throws(KernelError) in
            ns.deliverHeldEvents()
            ns.holdsEvents = false
        }
    }

    /// Offers `scope`'s held events now: a fault that acts on its monitors
    /// (an overflow, a death, a reboot) comes after the events published
    /// before it, as when each event is offered at once.
    private mutating func deliverHeldEvents(in scope: NetnsScope) {
        _ = try? withNetns(scope) { ns throws(KernelError) in ns.deliverHeldEvents() }
    }

    /// Marks every subscriber of the namespace as having lost events.
    mutating func overflowSubscribers(in scope: NetnsScope) {
        deliverHeldEvents(in: scope)
        guard let subscribers = try? withNetns(scope, { ns throws(KernelError) in ns.subscribers }), !subscribers.isEmpty else { return }
        for subscriber in subscribers { subscriber.forceOverflow() }
        faults.fired[.overflow, default: 0] += 1
        history.record(.fault, scope, .note("overflow on \(subscribers.count) subscribers"), .ok)
    }

    /// Kills every monitor of the namespace.
    mutating func killMonitors(in scope: NetnsScope, with error: KernelError) {
        deliverHeldEvents(in: scope)
        guard let subscribers = try? withNetns(scope, { ns throws(KernelError) in ns.subscribers }), !subscribers.isEmpty else { return }
        for subscriber in subscribers { subscriber.kill(error) }
        namespaces[scope]!.subscribers.removeAll()
        faults.fired[.monitorDeath, default: 0] += 1
        history.record(.fault, scope, .note("monitorDeath \(error.errno.symbolicName)"), .ok)
    }

    /// Every namespace back to its boot state, the machine's sysctls to their
    /// defaults, every cgroup's files to their defaults. Directories and
    /// namespaces stay (their owners recreate them at boot); monitors see an
    /// overflow (state changed wholesale, resync).
    mutating func reboot() {
        for scope in namespaceOrder { deliverHeldEvents(in: scope) }
        for scope in namespaceOrder {
            let subscribers = namespaces[scope]?.subscribers ?? []
            var fresh = SimNetns.boot(loopbackUp: scope == .current)
            fresh.subscribers = subscribers
            fresh.nftables = namespaces[scope]?.nftables.rebooted() ?? SimNftables()
            namespaces[scope] = fresh
            for subscriber in subscribers { subscriber.forceOverflow() }
        }
        globalSysctl = SysctlCatalog.bootGlobal()
        machineWideSysctl = [:]
        for path in cgroups.keys {
            cgroups[path] = path == Self.cgroupRoot ? CgroupFiles.root : CgroupFiles.child
        }
        faults.fired[.reboot, default: 0] += 1
        history.record(.fault, nil, .note("reboot"), .ok)
    }
}
