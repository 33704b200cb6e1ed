import LinxReconcile

/// Drift: a seeded foreign writer that adds, deletes and modifies random
/// routes, addresses, sysctls and cgroup values, ours included. Every choice
/// is drawn from the kernel's generator over deterministically ordered
/// candidates, so drift is part of the reproducible history.
extension SimState {
    /// Makes `steps` foreign changes in `scope` (and in `cgroups`).
    mutating func drift(steps: Int, in scope: NetnsScope, cgroups targets: [String]) {
        guard namespaces[scope] != nil else { return }
        for _ in 0..<steps {
            let changed: Bool
            switch rng.below(7) {
            case 0: changed = driftDeleteRoute(scope)
            case 1: changed = driftAddRoute(scope)
            case 2: changed = driftModifyRoute(scope)
            case 3: changed = driftDeleteAddress(scope)
            case 4: changed = driftAddAddress(scope)
            case 5: changed = driftSysctl(scope)
            default: changed = driftCgroup(targets.isEmpty ? cgroups.keys.sorted().filter { $0 != Self.cgroupRoot } : targets)
            }
            if changed { faults.fired[.drift, default: 0] += 1 }
        }
    }

    private mutating func foreign(_ request: RtnlRequest, _ scope: NetnsScope) -> Bool {
        history.record(.fault, scope, .note("drift"), .ok)
        if case .success = foreignRequest(request, in: scope) { return true }
        return false
    }

    /// Up, non-loopback links of the namespace, by index.
    private func driftLinks(_ scope: NetnsScope) -> [Int32] {
        guard let ns = namespaces[scope] else { return [] }
        return ns.links.keys.sorted().filter { ns.links[$0]!.link.isUp && !ns.links[$0]!.isLoopback }
    }

    private mutating func driftDeleteRoute(_ scope: NetnsScope) -> Bool {
        let candidates = namespaces[scope]!.routes.all.filter { $0.proto != RouteProtocol.kernel }
        guard !candidates.isEmpty else { return false }
        return foreign(.deleteRoute(rng.pick(candidates)), scope)
    }

    /// A /24 in 10.0.0.0/8 through a random link (via a host of one of its
    /// subnets when it has an IPv4 address), tagged with a random protocol,
    /// ours included.
    private mutating func driftAddRoute(_ scope: NetnsScope) -> Bool {
        let links = driftLinks(scope)
        guard !links.isEmpty else { return false }
        let link = rng.pick(links)
        let destination = try! IPPrefix(.v4(0x0A00_0000 | UInt32(rng.below(1 << 16)) << 8), length: 24)
        let proto = rng.pick([RouteProtocol.static, RouteProtocol.boot, RouteProtocol.linx])
        let subnets = namespaces[scope]!.addressesOrdered(on: link).map(\.address).filter { $0.family == .ipv4 && $0.prefixLength < 31 }
        let route: Route
        if !subnets.isEmpty, rng.chance(0.5) {
            route = Route(destination: destination, gateway: neighbour(in: rng.pick(subnets)), ifindex: link, proto: proto)
        } else {
            route = Route(destination: destination, ifindex: link, proto: proto, scope: 253)
        }
        return foreign(.addRoute(route), scope)
    }

    /// Moves a random non-kernel route to a new metric-preserving value: a
    /// different gateway on its link, or a different protocol tag.
    private mutating func driftModifyRoute(_ scope: NetnsScope) -> Bool {
        let candidates = namespaces[scope]!.routes.all.filter { $0.proto != RouteProtocol.kernel && $0.type == .unicast }
        guard !candidates.isEmpty else { return false }
        var route = rng.pick(candidates)
        let subnets = route.ifindex.map { namespaces[scope]!.addressesOrdered(on: $0).map(\.address) }?
            .filter { $0.family == .ipv4 && route.family == .ipv4 && $0.prefixLength < 31 } ?? []
        if route.gateway != nil, !subnets.isEmpty, rng.chance(0.5) {
            route.gateway = neighbour(in: rng.pick(subnets))
        } else {
            route.proto = route.proto == RouteProtocol.static ? RouteProtocol.boot : RouteProtocol.static
        }
        return foreign(.replaceRoute(route), scope)
    }

    private mutating func driftDeleteAddress(_ scope: NetnsScope) -> Bool {
        let ns = namespaces[scope]!
        let candidates = ns.addressesOrdered().map(\.address).filter { a in
            !(ns.links[a.ifindex]?.isLoopback ?? true) && !a.address.isIPv6LinkLocal
        }
        guard !candidates.isEmpty else { return false }
        return foreign(.deleteAddress(rng.pick(candidates)), scope)
    }

    private mutating func driftAddAddress(_ scope: NetnsScope) -> Bool {
        let links = driftLinks(scope)
        guard !links.isEmpty else { return false }
        let host = 0xAC10_0000 | UInt32(rng.below(1 << 12)) << 8 | UInt32(1 + rng.below(254))
        let address = InterfaceAddress(ifindex: rng.pick(links), address: .v4(host), prefixLength: 24)
        return foreign(.addAddress(address), scope)
    }

    /// Writes a small value (0...2) into a random single-integer `net.` key.
    private mutating func driftSysctl(_ scope: NetnsScope) -> Bool {
        let keys = namespaces[scope]!.sysctl.paths.sorted().filter { path in
            guard let spec = SysctlCatalog.spec(for: path.split(separator: "/").map(String.init)), spec.writable,
                case .ints(1, _, _) = spec.kind
            else { return false }
            return true
        }
        guard !keys.isEmpty else { return false }
        let key = SysctlKey(components: rng.pick(keys).split(separator: "/").map(String.init))
        let value = String(rng.below(3))
        history.record(.fault, scope, .note("drift"), .ok)
        do throws(KernelError) {
            try writeSysctl(key, value: value, in: scope)
            history.record(.foreign, scope, .sysctlWrite(key, value), .ok)
            return true
        } catch {
            history.record(.foreign, scope, .sysctlWrite(key, value), .failed(error))
            return false
        }
    }

    private mutating func driftCgroup(_ targets: [String]) -> Bool {
        let present = targets.filter { cgroups[Self.normalizedCgroup($0)] != nil }
        guard !present.isEmpty else { return false }
        let cgroup = rng.pick(present)
        let (file, value): (String, String)
        switch rng.below(5) {
        case 0: (file, value) = ("memory.max", String(4096 * (1 + rng.below(1 << 18))))
        case 1: (file, value) = ("memory.high", rng.chance(0.3) ? "max" : String(4096 * (1 + rng.below(1 << 18))))
        case 2: (file, value) = ("pids.max", rng.chance(0.3) ? "max" : String(1 + rng.below(4096)))
        case 3: (file, value) = ("cpu.max", rng.chance(0.3) ? "max" : String(1000 * (1 + rng.below(200))))
        default: (file, value) = ("cpu.weight", String(1 + rng.below(10_000)))
        }
        let action = SimHistoryEntry.Action.cgroup(.cgroupWrite, file: file, value: value, cgroup: cgroup)
        history.record(.fault, nil, .note("drift"), .ok)
        do throws(KernelError) {
            try writeCgroup(file, value: value, in: cgroup)
            history.record(.foreign, nil, action, .ok)
            return true
        } catch {
            history.record(.foreign, nil, action, .failed(error))
            return false
        }
    }

    /// A random host address in the subnet of `address` (not the address itself).
    private mutating func neighbour(in address: InterfaceAddress) -> IPAddress {
        guard case .v4(let ip) = address.address else { return address.address }
        let hostBits = UInt32(32 - address.prefixLength)
        let span = hostBits >= 31 ? UInt32.max : (UInt32(1) << hostBits) - 2
        var host = ip & ~((UInt32(1) << hostBits) &- 1) | (1 + UInt32(rng.below(Int(max(span, 1)))))
        if host == ip { host ^= 1 }
        return .v4(host)
    }
}
