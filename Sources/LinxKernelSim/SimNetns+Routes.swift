import LinxReconcile

/// Route requests with the kernel's checks and errnos (observed on Linux
/// 6.18 in a throwaway namespace: no device and no gateway is ENODEV, a down
/// device is ENETDOWN "Device for nexthop is not up", an unreachable IPv4
/// gateway is ENETUNREACH, an existing key is EEXIST, a missing one ESRCH).
extension SimNetns {
    /// What the kernel stores for a request: no interface name, IPv6 metric
    /// 0 as 1024, IPv6 scope universe (the kernel reports every IPv6 route
    /// with scope 0, checked on Linux 6.18).
    static func normalized(_ request: Route) -> Route {
        var route = request
        route.interfaceName = nil
        route.metric = Route.normalizedMetric(route.metric, family: route.family)
        if route.family == .ipv6 { route.scope = 0 }
        return route
    }

    /// The route a gateway lookup lands on, as fib_check_nh_v4_gw looks:
    /// for IPv4 in `table` when it is not main, then through the rules
    /// (local, main, default), the first table with a match winning; only
    /// routes of scope link or host count, and with `ifindex` given only
    /// routes through it. IPv6 looks in `table`, then main. Nil when none.
    /// The tables the default IPv4 rules look up, in order: local, main, default.
    static let ruleTables: [UInt32] = [RouteTable.local, RouteTable.main, 253]

    func reaching(_ gateway: IPAddress, table: UInt32, via ifindex: Int32?) -> Route? {
        // Closure literals, not stored closures or a table array: nothing is heap-allocated per lookup.
        if table != RouteTable.main,
            let found = routes.firstOnLink(reaching: gateway, table: table, where: { ifindex == nil || $0.ifindex == ifindex })
        {
            return found
        }
        if gateway.family == .ipv4 {
            for t in Self.ruleTables {
                if let found = routes.firstOnLink(reaching: gateway, table: t, where: { ifindex == nil || $0.ifindex == ifindex }) {
                    return found
                }
            }
            return nil
        }
        return routes.firstOnLink(reaching: gateway, table: RouteTable.main) { ifindex == nil || $0.ifindex == ifindex }
    }

    /// RTM_NEWROUTE with NLM_F_CREATE and either NLM_F_EXCL (`replace`
    /// false: an existing key is EEXIST) or NLM_F_REPLACE.
    mutating func addRoute(_ request: Route, replace: Bool) throws(KernelError) {
        var route = Self.normalized(request)
        if let ifindex = route.ifindex {
            guard links[ifindex] != nil else { throw KernelError(.noSuchDevice, "no interface with index \(ifindex)") }
        }
        switch route.type {
        case .unicast:
            if let ifindex = route.ifindex, !isUp(ifindex) {
                throw KernelError(.networkDown, "Device for nexthop is not up")
            }
            if let gateway = route.gateway {
                guard gateway.family == route.family else {
                    throw KernelError(.invalidArgument, "gateway family does not match destination")
                }
                if gateway.isIPv6LinkLocal {
                    guard route.ifindex != nil else {
                        throw KernelError(.invalidArgument, "Nexthop device required for link-local gateway")
                    }
                } else {
                    if route.family == .ipv6, addresses.values.contains(where: { $0.address.address == gateway }) {
                        throw KernelError(.invalidArgument, "Gateway can not be a local address")
                    }
                    guard let via = reaching(gateway, table: route.table, via: route.ifindex) else {
                        // IPv4 fib_check_nh answers ENETUNREACH, IPv6 ip6_route_check_nh EHOSTUNREACH.
                        throw KernelError(
                            route.family == .ipv4 ? .networkUnreachable : .noRouteToHost, "Nexthop has invalid gateway")
                    }
                    // A gateway on a broadcast address is refused; one of our own addresses (a local
                    // route) is accepted through its link, as Linux 6.18 does.
                    if via.type == .broadcast { throw KernelError(.invalidArgument, "Nexthop has invalid gateway") }
                    guard isUp(via.ifindex ?? 0) else { throw KernelError(.networkDown, "Nexthop device is not up") }
                    route.ifindex = via.ifindex
                }
            } else if route.ifindex == nil {
                throw KernelError(.noSuchDevice, "Device for nexthop required")
            }
        case .local, .broadcast, .anycast, .multicast:
            guard route.ifindex != nil else { throw KernelError(.noSuchDevice, "Device for nexthop required") }
        case .blackhole, .unreachable, .prohibit:
            break
        }
        if !replace, routes.contains(route.key) {
            throw KernelError(.fileExists, "route exists")
        }
        routes.upsert(route)
        publish(.route(route, .new))
    }

    /// RTM_DELROUTE: matched by key; a request naming a protocol, gateway,
    /// interface (or, for IPv4, a type) that differs from the stored route
    /// matches nothing (ESRCH), as fib_table_delete does. For IPv4 a metric
    /// of 0 is a wildcard: the lowest-metric route that matches goes, as
    /// `ip route del PREFIX` does on the kernel.
    mutating func deleteRoute(_ request: Route) throws(KernelError) {
        let route = Self.normalized(request)
        let key = route.key
        func matches(_ existing: Route) -> Bool {
            (route.proto == 0 || route.proto == existing.proto)
                && (route.gateway == nil || route.gateway == existing.gateway)
                && (route.ifindex == nil || route.ifindex == existing.ifindex)
                && (route.family == .ipv6 || route.type == existing.type)
        }
        // The common case first, without building a candidate list.
        if let existing = routes[key], matches(existing) {
            routes.remove(key)
            publish(.route(existing, .deleted))
            return
        }
        if route.family == .ipv4 && route.metric == 0 {
            for candidate in routes.keysIgnoringMetric(key) where candidate != key {
                guard let existing = routes[candidate], matches(existing) else { continue }
                routes.remove(candidate)
                publish(.route(existing, .deleted))
                return
            }
        }
        throw KernelError(.noSuchProcess, "route not found")
    }

}
