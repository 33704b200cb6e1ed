import LinxReconcile

/// Addresses and the routes the kernel derives from them.
extension SimNetns {
    /// The routes the kernel installs for an address (fib_add_ifaddr and
    /// addrconf, checked on Linux 6.18): the local route (table local; IPv6
    /// metric 0) always; on a link that is up, for an IPv4 primary whose
    /// network is not 0.0.0.0, the connected route (prefix < 32; on lo a
    /// local route in table local) and the network broadcast (prefix < 31).
    /// A secondary gets its local route only, so deleting a subnet's
    /// connected route by hand keeps it deleted. IPv4 routes carry the
    /// subnet's primary as prefsrc. IPv6: the prefix route (metric 256)
    /// except for the kernel's own ::1 on lo.
    func derivedRoutes(for entry: SimAddressState, linkUp: Bool) -> DerivedRoutes {
        let address = entry.address
        let index = address.ifindex
        let loopback = links[index]?.isLoopback ?? false
        let length = address.prefixLength
        let network = try! IPPrefix(address.address.masked(to: length), length: length)
        switch address.family {
        case .ipv4:
            let source = entry.secondary ? primary(of: address)?.address.address ?? address.address : address.address
            var out = DerivedRoutes(
                Route(
                    destination: try! IPPrefix(address.address, length: 32), ifindex: index, table: RouteTable.local,
                    proto: RouteProtocol.kernel, scope: 254, type: .local, prefsrc: source))
            // A zero network (0.1.2.3/8, any /0) gets no connected or broadcast route.
            guard linkUp, !entry.secondary, network.address != .v4(0) else { return out }
            // fib_add_ifaddr's order: local, prefix, then the network broadcast.
            if length < 32 {
                out.append(
                    loopback
                        ? Route(
                            destination: network, ifindex: index, table: RouteTable.local, proto: RouteProtocol.kernel,
                            scope: 254, type: .local, prefsrc: source)
                        : Route(
                            destination: network, ifindex: index, table: RouteTable.main, proto: RouteProtocol.kernel,
                            scope: 253, type: .unicast, prefsrc: source))
            }
            if length < 31, case .v4(let ip) = address.address {
                let broadcast = ip | (UInt32.max >> UInt32(length))
                out.append(
                    Route(
                        destination: try! IPPrefix(.v4(broadcast), length: 32), ifindex: index, table: RouteTable.local,
                        proto: RouteProtocol.kernel, scope: 253, type: .broadcast, prefsrc: source))
            }
            return out
        case .ipv6:
            var local = Route(
                destination: try! IPPrefix(address.address, length: 128), ifindex: index, table: RouteTable.local,
                proto: RouteProtocol.kernel, type: .local)
            local.metric = 0  // kernel-made local routes keep metric 0; only user routes get 1024
            // the local route exists on a down link too; the prefix route waits for up
            guard linkUp, !entry.noPrefixRoute else { return DerivedRoutes(local) }
            var out = DerivedRoutes(
                Route(destination: network, ifindex: index, table: RouteTable.main, metric: 256, proto: RouteProtocol.kernel))
            out.append(local)
            return out
        }
    }

    /// The primary of an IPv4 secondary's subnet.
    func primary(of address: InterfaceAddress) -> SimAddressState? {
        sameSubnet(as: address).first { !$0.secondary }
    }

    func isUp(_ index: Int32) -> Bool { links[index]?.link.isUp ?? false }

    /// Inserts the derived routes of `address` that are missing.
    mutating func addPrefixRoutes(for entry: SimAddressState) {
        let derived = derivedRoutes(for: entry, linkUp: isUp(entry.address.ifindex))
        var skipsMain = false
        if entry.address.family == .ipv6 {
            if entry.prefixRouteMade {
                skipsMain = true
            } else if derived.contains(where: { $0.table == RouteTable.main }) {
                addresses[entry.address.key]?.prefixRouteMade = true
            }
        }
        for route in derived where !(skipsMain && route.table == RouteTable.main) && routes.insertKernel(route) {
            publish(.route(route, .new))
        }
    }

    /// RTM_NEWADDR with NLM_F_EXCL; `scope` is the request's rt_scope;
    /// `noPrefixRoute` is for the kernel's own ::1 on lo, which gets no
    /// route in table main.
    mutating func addAddress(_ request: InterfaceAddress, scope: UInt8 = 0, noPrefixRoute: Bool = false) throws(KernelError) {
        var address = request
        address.interfaceName = nil
        guard links[address.ifindex] != nil else { throw Self.noDevice(address.family) }
        guard (0...address.family.bitWidth).contains(address.prefixLength) else {
            throw KernelError(.invalidArgument, "prefix length \(address.prefixLength) out of range")
        }
        switch address.family {
        case .ipv4:
            // inet_rtm_to_ifa marks every conf file of the link as set before it
            // looks for a duplicate: conf.default writes stop reaching the link.
            markConfSet(on: address.ifindex)
            guard addresses[address.key] == nil else { throw KernelError(.fileExists, "ipv4: Address already assigned") }
        case .ipv6:
            guard ipv6Capable(address.ifindex) else { throw KernelError(.invalidArgument, "IPv6 needs an MTU of at least 1280") }
            if ipv6Disabled(on: address.ifindex) {
                throw KernelError(.permissionDenied, "ipv6: IPv6 is disabled on this device")
            }
            // IPv6 refuses the same address twice on a link whatever the prefix length.
            if addresses.values.contains(where: { $0.address.ifindex == address.ifindex && $0.address.address == address.address }) {
                throw KernelError(.fileExists, "ipv6: address already assigned")
            }
        }
        if address.family == .ipv6, isUp(address.ifindex) { addMulticastRoute(on: address.ifindex) }
        addressSequence += 1
        let secondary = address.family == .ipv4 && !sameSubnet(as: address).isEmpty
        let entry = SimAddressState(
            address: address, sequence: addressSequence, secondary: secondary, rank: addressSequence, scope: scope,
            noPrefixRoute: noPrefixRoute)
        addresses[address.key] = entry
        publish(.address(address, .new))
        addPrefixRoutes(for: entry)
        if address.family == .ipv6 { syncAnycast(on: address.ifindex) }
    }

    /// RTM_DELADDR: removes the address (and, for an IPv4 primary, its
    /// secondaries unless promote_secondaries is on for the link or for all:
    /// checked on Linux 6.18, where it is 0 by default) and its derived
    /// routes. When the link's last IPv4 address goes, every IPv4 route
    /// through the link goes too (fib_disable_ip), gateway routes included.
    mutating func deleteAddress(_ request: InterfaceAddress) throws(KernelError) {
        guard links[request.ifindex] != nil else { throw Self.noDevice(request.family) }
        guard let entry = addresses[request.key] else {
            throw KernelError(
                .addressNotAvailable, request.family == .ipv4 ? "ipv4: Address not found" : "ipv6: address not found")
        }
        let index = entry.address.ifindex
        var doomed = [entry]
        var repointed: [InterfaceAddress.Key] = []
        if entry.address.family == .ipv4, !entry.secondary {
            let secondaries = sameSubnet(as: entry.address).sorted { $0.rank < $1.rank }
            if promotesSecondaries(index) {
                // The oldest secondary becomes the primary and moves to the end of the primaries.
                // inet_del_ifa first removes the subnet's secondaries' routes (their prefsrc is the
                // old primary), then adds them back, the promoted one's in full, with the new one.
                if let promoted = secondaries.first {
                    let up = isUp(index)
                    for route in secondaries.flatMap({ derivedRoutes(for: $0, linkUp: up) }) {
                        if let gone = routes.removeKernel(route) { publish(.route(gone, .deleted)) }
                    }
                    addressSequence += 1
                    addresses[promoted.address.key]!.secondary = false
                    addresses[promoted.address.key]!.rank = addressSequence
                    repointed = secondaries.map(\.address.key)
                }
            } else {
                doomed += secondaries
            }
        }
        let up = isUp(index)
        // Derived before the deletes, while a secondary's primary is still there to name its prefsrc.
        let derived = doomed.flatMap { derivedRoutes(for: $0, linkUp: up) }
        for gone in doomed {
            addresses[gone.address.key] = nil
            publish(.address(gone.address, .deleted))
        }
        for route in derived where !stillDerived(route, on: index) {
            guard let current = routes.removeKernel(route) else { continue }
            publish(.route(current, .deleted))
        }
        for key in repointed {
            if let moved = addresses[key] { addPrefixRoutes(for: moved) }
        }
        if entry.address.family == .ipv6 { syncAnycast(on: index) }
        // When the link's last IPv4 address goes, fib_disable_ip flushes every IPv4 route through
        // it. Otherwise gateway routes stay even if nothing reaches their gateway any more
        // (checked on Linux 6.18: only the last address's delete flushed them).
        let lastIPv4 = entry.address.family == .ipv4
            && !addresses.values.contains { $0.address.ifindex == index && $0.address.family == .ipv4 }
        let flushed = lastIPv4 ? routes.removeAll { $0.ifindex == index && $0.family == .ipv4 } : []
        for route in flushed { publish(.route(route, .deleted)) }
    }

    /// An address request naming no link: inet_rtm_newaddr/deladdr and
    /// inet6_rtm_newaddr/deladdr's texts (Linux 6.18).
    static func noDevice(_ family: AddressFamily) -> KernelError {
        KernelError(.noSuchDevice, family == .ipv4 ? "ipv4: Device not found" : "ipv6: Unable to find the interface")
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
        return sysctl["net/ipv4/conf/all/promote_secondaries"] != "0" || sysctl.linkValue(SysctlCatalog.ipv4ConfDirectory, SysctlCatalog.ipv4PromoteSecondaries, of: name) != "0"
    }

    /// True when an address still on link `index` derives `route` with the
    /// same prefsrc: fib_del_ifaddr keeps a route only for an address that
    /// shares the primary (checked on Linux 6.18).
    func stillDerived(_ route: Route, on index: Int32) -> Bool {
        let up = isUp(index)
        return addresses.values.contains { entry in
            entry.address.ifindex == index
                && derivedRoutes(for: entry, linkUp: up).contains { $0.key == route.key && $0.prefsrc == route.prefsrc }
        }
    }
}

/// The one to three routes the kernel derives from an address (see
/// ``SimNetns/derivedRoutes(for:linkUp:)``), held in place: every address
/// add, link up and address delete derives them, and an array each cost a
/// heap allocation (a delete derives them again for every address left on
/// the link).
struct DerivedRoutes: RandomAccessCollection {
    private var first: Route
    private var second: Route?
    /// Set only when `second` is.
    private var third: Route?

    init(_ first: Route) { self.first = first }

    var startIndex: Int { 0 }
    var endIndex: Int { second == nil ? 1 : (third == nil ? 2 : 3) }

    subscript(position: Int) -> Route {
        switch position {
        case 0: first
        case 1: second!
        default: third!
        }
    }

    /// Adds a second, then a third route.
    mutating func append(_ route: Route) {
        if second == nil { second = route } else { third = route }
    }
}
