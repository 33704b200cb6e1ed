import LinxReconcile

/// Addresses and the routes the kernel derives from them.
extension SimNetns {
    /// The routes the kernel installs for `address`: the local route (table
    /// local; IPv6 metric 0) always; on a link that is up also IPv4
    /// broadcast (prefix < 31) and connected (prefix < 32; on lo a local
    /// route in table local), IPv6 connected (metric 256).
    func derivedRoutes(for address: InterfaceAddress, linkUp: Bool) -> [Route] {
        let index = address.ifindex
        let loopback = links[index]?.isLoopback ?? false
        let length = address.prefixLength
        let network = try! IPPrefix(address.address.masked(to: length), length: length)
        switch address.family {
        case .ipv4:
            var out = [
                Route(
                    destination: try! IPPrefix(address.address, length: 32), ifindex: index, table: RouteTable.local,
                    proto: RouteProtocol.kernel, scope: 254, type: .local)
            ]
            guard linkUp else { return out }
            // fib_add_ifaddr's order: local, prefix, then the network broadcast.
            if length < 32 {
                out.append(
                    loopback
                        ? Route(
                            destination: network, ifindex: index, table: RouteTable.local, proto: RouteProtocol.kernel,
                            scope: 254, type: .local)
                        : Route(
                            destination: network, ifindex: index, table: RouteTable.main, proto: RouteProtocol.kernel,
                            scope: 253, type: .unicast))
            }
            if length < 31, case .v4(let ip) = address.address {
                let broadcast = ip | (UInt32.max >> UInt32(length))
                out.append(
                    Route(
                        destination: try! IPPrefix(.v4(broadcast), length: 32), ifindex: index, table: RouteTable.local,
                        proto: RouteProtocol.kernel, scope: 253, type: .broadcast))
            }
            return out
        case .ipv6:
            var local = Route(
                destination: try! IPPrefix(address.address, length: 128), ifindex: index, table: RouteTable.local,
                proto: RouteProtocol.kernel, type: .local)
            local.metric = 0  // kernel-made local routes keep metric 0; only user routes get 1024
            // the local route exists on a down link too; the prefix route waits for up
            guard linkUp else { return [local] }
            return [
                Route(destination: network, ifindex: index, table: RouteTable.main, metric: 256, proto: RouteProtocol.kernel),
                local,
            ]
        }
    }

    func isUp(_ index: Int32) -> Bool { links[index]?.link.isUp ?? false }

    /// Inserts the derived routes of `address` that are missing.
    mutating func addPrefixRoutes(for address: InterfaceAddress) {
        for route in derivedRoutes(for: address, linkUp: isUp(address.ifindex)) where routes.insertKernel(route) {
            publish(.route(route, .new))
        }
    }

    /// RTM_NEWADDR with NLM_F_EXCL; `scope` is the request's rt_scope.
    mutating func addAddress(_ request: InterfaceAddress, scope: UInt8 = 0) throws(KernelError) {
        var address = request
        address.interfaceName = nil
        _ = try linkState(address.ifindex)
        guard (0...address.family.bitWidth).contains(address.prefixLength) else {
            throw KernelError(.invalidArgument, "prefix length \(address.prefixLength) out of range")
        }
        switch address.family {
        case .ipv4:
            guard addresses[address.key] == nil else { throw KernelError(.fileExists, "address exists") }
        case .ipv6:
            guard ipv6Capable(address.ifindex) else { throw KernelError(.invalidArgument, "IPv6 needs an MTU of at least 1280") }
            if ipv6Disabled(on: address.ifindex) {
                throw KernelError(.permissionDenied, "IPv6 is disabled on this device")
            }
            // IPv6 refuses the same address twice on a link whatever the prefix length.
            if addresses.values.contains(where: { $0.address.ifindex == address.ifindex && $0.address.address == address.address }) {
                throw KernelError(.fileExists, "address exists")
            }
        }
        if address.family == .ipv6, isUp(address.ifindex) { addMulticastRoute(on: address.ifindex) }
        addressSequence += 1
        let secondary = address.family == .ipv4 && !sameSubnet(as: address).isEmpty
        addresses[address.key] = SimAddressState(
            address: address, sequence: addressSequence, secondary: secondary, rank: addressSequence, scope: scope)
        publish(.address(address, .new))
        addPrefixRoutes(for: address)
    }

    /// RTM_DELADDR: removes the address (and, for an IPv4 primary, its
    /// secondaries unless promote_secondaries is on for the link or for all:
    /// checked on Linux 6.18, where it is 0 by default) and its derived
    /// routes. When the link's last IPv4 address goes, every IPv4 route
    /// through the link goes too (fib_disable_ip), gateway routes included.
    mutating func deleteAddress(_ request: InterfaceAddress) throws(KernelError) {
        guard let entry = addresses[request.key] else {
            throw KernelError(
                .addressNotAvailable, request.family == .ipv4 ? "ipv4: Address not found" : "ipv6: address not found")
        }
        let index = entry.address.ifindex
        var doomed = [entry.address]
        if entry.address.family == .ipv4, !entry.secondary {
            let secondaries = sameSubnet(as: entry.address).sorted { $0.rank < $1.rank }
            if promotesSecondaries(index) {
                // The oldest secondary becomes the primary and moves to the end of the primaries.
                if let promoted = secondaries.first {
                    addressSequence += 1
                    addresses[promoted.address.key]!.secondary = false
                    addresses[promoted.address.key]!.rank = addressSequence
                }
            } else {
                doomed += secondaries.map(\.address)
            }
        }
        for address in doomed {
            addresses[address.key] = nil
            publish(.address(address, .deleted))
        }
        let up = isUp(index)
        for address in doomed {
            for route in derivedRoutes(for: address, linkUp: up) where !stillDerived(route.key, on: index) {
                guard let current = routes.removeKernel(route.key, ifindex: index) else { continue }
                publish(.route(current, .deleted))
            }
        }
        // When the link's last IPv4 address goes, fib_disable_ip flushes every IPv4 route through
        // it. Otherwise gateway routes stay even if nothing reaches their gateway any more
        // (checked on Linux 6.18: only the last address's delete flushed them).
        let lastIPv4 = entry.address.family == .ipv4
            && !addresses.values.contains { $0.address.ifindex == index && $0.address.family == .ipv4 }
        let flushed = lastIPv4 ? routes.removeAll { $0.ifindex == index && $0.family == .ipv4 } : []
        for route in flushed { publish(.route(route, .deleted)) }
    }

    /// The other IPv4 addresses of `address`'s subnet on its link (same
    /// prefix length, the network matching), as the kernel groups a primary
    /// with its secondaries.
    func sameSubnet(as address: InterfaceAddress) -> [SimAddressState] {
        let subnet = try! IPPrefix(address.address.masked(to: address.prefixLength), length: address.prefixLength)
        return addresses.values.filter {
            $0.address.ifindex == address.ifindex && $0.address.family == .ipv4 && $0.address.prefixLength == subnet.length
                && subnet.contains($0.address.address) && $0.address.key != address.key
        }
    }

    /// IN_DEV_PROMOTE_SECONDARIES: conf.all or the link's conf.
    func promotesSecondaries(_ index: Int32) -> Bool {
        guard let name = links[index]?.link.name else { return false }
        return sysctl["net/ipv4/conf/all/promote_secondaries"] != "0" || sysctl["net/ipv4/conf/\(name)/promote_secondaries"] != "0"
    }

    /// True when an address still on link `index` derives the route `key`.
    func stillDerived(_ key: Route.Key, on index: Int32) -> Bool {
        let up = isUp(index)
        return addresses.values.contains { entry in
            entry.address.ifindex == index && derivedRoutes(for: entry.address, linkUp: up).contains { $0.key == key }
        }
    }
}
