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

    /// The route an IPv4 gateway lookup lands on, as fib_check_nh_v4_gw
    /// looks: in `table` when it is neither main nor local, then through the default
    /// rules, where local and main are one merged trie (longest prefix
    /// across both wins, checked on Linux 6.18) and table default (253)
    /// comes after. Only routes of `scope` or narrower count, and with
    /// `ifindex` given only routes through it. Nil when none.
    func reaching(_ gateway: IPAddress, table: UInt32, via ifindex: Int32?, scope: UInt8 = 253) -> Route? {
        // Closure literals, not stored closures or a table array: nothing is heap-allocated per lookup.
        func accept(_ route: Route) -> Bool {
            (ifindex == nil || route.ifindex == ifindex) && route.scope >= scope
        }
        // Table local is the merged trie too, so only a third table is looked up on its own.
        if table != RouteTable.main, table != RouteTable.local,
            let found = routes.firstOnLink(reaching: gateway, table: table, where: accept)
        {
            return found
        }
        if let found = routes.firstOnLink(
            reaching: gateway, inTables: { $0 == RouteTable.local || $0 == RouteTable.main }, where: accept)
        {
            return found
        }
        return routes.firstOnLink(reaching: gateway, table: 253, where: accept)
    }

    /// The device an IPv6 gateway resolves through (ip6_route_check_nh):
    /// a lookup in the route's table, then through the rules (local, then
    /// main). A table's answer is its longest prefix containing the
    /// gateway, lowest metric first, through the named device if any, of
    /// any kind: one that needs a gateway itself or is a reject route (a
    /// blackhole type, or unicast through lo) fails the check (checked on
    /// Linux 6.18). Nil when it fails (EHOSTUNREACH).
    func reaching6(_ gateway: IPAddress, table: UInt32, via ifindex: Int32?) -> Int32? {
        let loopback = links.first { $0.value.isLoopback }?.key
        func lookup(_ t: UInt32) -> Route? { routes.bestIPv6(containing: gateway, table: t, via: ifindex) }
        func usable(_ route: Route) -> Int32? {
            switch route.type {
            case .blackhole, .unreachable, .prohibit: return nil
            default:
                if route.gateway != nil || (route.type == .unicast && route.ifindex == loopback) { return nil }
                return route.ifindex
            }
        }
        if let found = lookup(table), let device = usable(found) { return device }
        for t in [RouteTable.local, RouteTable.main] {
            if let found = lookup(t) { return usable(found) }
        }
        return nil
    }

    /// RTM_NEWROUTE with NLM_F_CREATE and either NLM_F_EXCL (`replace`
    /// false: an existing key is EEXIST) or NLM_F_REPLACE. The checks run
    /// in the kernel's order (fib_create_info / fib_check_nh for IPv4,
    /// ip6_route_info_create / fib6_nh_init for IPv6) with its errnos and
    /// ext-ack texts, nil where it gives none (checked on Linux 6.18).
    mutating func addRoute(_ request: Route, replace: Bool) throws(KernelError) {
        var route = Self.normalized(request)
        tables.insert(route.table, family: route.family)
        switch route.family {
        case .ipv4: try checkRoute4(&route)
        case .ipv6: try checkRoute6(&route)
        }
        guard routes.add(route, replacing: replace) else { throw KernelError(.fileExists) }
        publish(.route(route, .new))
    }

    /// fib_create_info and fib_check_nh.
    private func checkRoute4(_ route: inout Route) throws(KernelError) {
        let minimumScope: UInt8 = switch route.type {
            case .local: 254
            case .broadcast, .multicast: 253
            default: 0
        }
        if route.scope < minimumScope { throw KernelError(.invalidArgument, "Invalid scope") }
        switch route.type {
        case .blackhole, .unreachable, .prohibit:
            if route.gateway != nil || route.ifindex != nil {
                throw KernelError(.invalidArgument, "Gateway, device and multipath can not be specified for this route type")
            }
            return
        default: break
        }
        if let gateway = route.gateway, gateway.family != .ipv4 {
            throw KernelError(.invalidArgument, "gateway family does not match destination")
        }
        if route.scope == 254 {
            // A host-scope route (a local address): a device, no gateway, no up check.
            if route.gateway != nil { throw KernelError(.invalidArgument, "Route with host scope can not have a gateway") }
            guard let ifindex = route.ifindex, links[ifindex] != nil else { throw KernelError(.noSuchDevice) }
            return
        }
        if let gateway = route.gateway {
            // fib_check_nh_v4_gw: a lookup of scope link or narrower, in the table then through the rules.
            guard let via = reaching(gateway, table: route.table, via: route.ifindex, scope: max(route.scope + 1, 253)) else {
                throw KernelError(.networkUnreachable, "Nexthop has invalid gateway")
            }
            guard via.type == .unicast || via.type == .local else {
                throw KernelError(.invalidArgument, "Nexthop has invalid gateway")
            }
            guard isUp(via.ifindex ?? 0) else { throw KernelError(.networkDown) }
            route.ifindex = via.ifindex
        } else {
            // fib_check_nh_nongw
            guard let ifindex = route.ifindex, links[ifindex] != nil else { throw KernelError(.noSuchDevice) }
            guard isUp(ifindex) else { throw KernelError(.networkDown, "Device for nexthop is not up") }
        }
    }

    /// ip6_route_info_create and fib6_nh_init: reject types go to lo
    /// without any check; a unicast route through lo becomes a reject route.
    private func checkRoute6(_ route: inout Route) throws(KernelError) {
        if let ifindex = route.ifindex, links[ifindex] == nil { throw KernelError(.noSuchDevice) }
        let loopback = links.first { $0.value.isLoopback }?.key
        switch route.type {
        case .blackhole, .unreachable, .prohibit:
            route.ifindex = loopback
            route.gateway = nil
            return
        default: break
        }
        if let gateway = route.gateway {
            // ip6_validate_gw, in its order.
            guard gateway.family == .ipv6 else { throw KernelError(.invalidArgument, "gateway family does not match destination") }
            func isLocal(on ifindex: Int32?) -> Bool {
                addresses.values.contains { $0.address.address == gateway && (!gateway.isIPv6LinkLocal || $0.address.ifindex == ifindex) }
            }
            let named = route.ifindex
            if named != nil, isLocal(on: named) { throw KernelError(.invalidArgument, "Gateway can not be a local address") }
            if !gateway.isIPv6LinkLocal {
                // ip6_route_check_nh: the route's table, then the rules (local, main); it must land on
                // an on-link route, through the named device if any. A local address resolves to lo.
                guard let via = reaching6(gateway, table: route.table, via: named) else { throw KernelError(.noRouteToHost) }
                if named == nil { route.ifindex = via }
            }
            guard let ifindex = route.ifindex else { throw KernelError(.invalidArgument, "Egress device not specified") }
            if ifindex == loopback {
                throw KernelError(.invalidArgument, "Egress device can not be loopback device for this route")
            }
            if named == nil, isLocal(on: ifindex) { throw KernelError(.invalidArgument, "Gateway can not be a local address") }
        }
        guard let ifindex = route.ifindex else { throw KernelError(.noSuchDevice) }
        if ipv6Disabled(on: ifindex) || !ipv6Capable(ifindex) {
            throw KernelError(.permissionDenied, "IPv6 is disabled on nexthop device")
        }
        guard isUp(ifindex) else { throw KernelError(.networkDown, "Nexthop device is not up") }
    }

    /// RTM_DELROUTE as the backends send it: the key and, when not 0, the
    /// protocol; any type, scope, gateway and device (RTN_UNSPEC,
    /// RT_SCOPE_NOWHERE, no RTA_GATEWAY or RTA_OIF), so the first route of
    /// the key goes, as fib_table_delete and ip6_route_del pick it. For IPv4
    /// a metric of 0 is a wildcard: the lowest-metric route that matches
    /// goes, as `ip route del PREFIX` does on the kernel. ESRCH without
    /// text when nothing matches, "FIB table does not exist" for a table
    /// no add ever named (checked on Linux 6.18).
    mutating func deleteRoute(_ request: Route) throws(KernelError) {
        let route = Self.normalized(request)
        let key = route.key
        guard tables.contains(route.table, family: route.family) else {
            throw KernelError(.noSuchProcess, "FIB table does not exist")
        }
        func matches(_ existing: Route) -> Bool { route.proto == 0 || route.proto == existing.proto }
        // The common case first, without building a candidate list.
        if let existing = routes[key], matches(existing) {
            routes.remove(key)
            publish(.route(existing, .deleted))
            return
        }
        // The kernel walks a key's aliases in order: the routes it appended
        // beside the first one (its own connected route next to ours) match too.
        if let alias = routes.removeShadow(matching: matches, key: key) {
            publish(.route(alias, .deleted))
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
        throw KernelError(.noSuchProcess)
    }

}
