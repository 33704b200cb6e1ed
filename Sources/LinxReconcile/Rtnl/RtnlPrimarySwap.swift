/// A link's IPv4 subnet (interface, network, prefix length): the addresses
/// in one are its primary and its secondaries.
struct RtnlIPv4Subnet: Hashable {
    var ifindex: Int32
    var network: IPAddress
    var length: Int

    init(_ address: InterfaceAddress) {
        ifindex = address.ifindex
        network = address.address.masked(to: address.prefixLength)
        length = address.prefixLength
    }

    /// The hash sets and dictionaries of subnets use: `WordHash`, no Hasher.
    func _rawHashValue(seed: Int) -> Int {
        let (a, b) = network.hashWords
        return WordHash.hash(seed: seed, a, b, UInt64(UInt32(bitPattern: ifindex)) << 32 | UInt64(truncatingIfNeeded: length))
    }

    /// True when `gateway` lies in this subnet.
    func contains(_ gateway: IPAddress) -> Bool {
        gateway.family == .ipv4 && gateway.masked(to: length) == network
    }
}

/// Replacing the primary address of a subnet in one pass.
///
/// With `promote_secondaries` off, deleting a primary IPv4 address deletes
/// every secondary of its subnet, and the routes whose gateway only that
/// subnet reached. In the layer order (address creates first, address deletes
/// last), swapping `10.0.0.2/24` for `10.0.0.3/24` would add .3 as a
/// secondary and then lose it with .2, while the report said it was added.
///
/// So when an owned primary is deleted and its subnet holds desired
/// addresses (there already, or added by this pass), its delete goes first,
/// followed at once by every desired address of the subnet, (re)created
/// (one subnet at a time: see ``interleaved(creates:)``); and every
/// desired route of ours through the subnet that the pass would otherwise
/// leave alone is created again after the addresses. An address or route
/// that survived anyway answers EEXIST, which counts as done.
struct RtnlPrimarySwap {
    /// Owned primaries deleted before anything else.
    var earlyDeletes: [InterfaceAddress] = []
    /// Desired addresses already present that the early deletes flush.
    var addressRecreates: [InterfaceAddress] = []
    /// Desired, unchanged routes of ours through a flushed subnet, or
    /// through a link the swap leaves without an IPv4 address for a moment.
    var routeRecreates: [Route] = []
    private var moved = Set<InterfaceAddress.Key>()
    private var swappedSubnets = Set<RtnlIPv4Subnet>()

    /// The address phase: first the creates in subnets no swap touches, then
    /// each early delete followed at once by its subnet's address creates
    /// (`creates`, then the recreates). Deleting all the swapped primaries
    /// first could leave a link without an IPv4 address for a moment, and
    /// the kernel then flushes every IPv4 route through it (fib_disable_ip),
    /// foreign ones and ones this pass leaves alone included; with the other
    /// subnets' new addresses in place and one subnet swapped at a time, a
    /// link only empties when the swapped subnet is all it will ever have.
    /// (A delete cannot flush an address of another subnet, so the early
    /// creates are safe.)
    func interleaved(creates: some Sequence<InterfaceAddress>) -> [ReconcileOp<RtnlObject>] {
        var out: [ReconcileOp<RtnlObject>] = []
        guard !earlyDeletes.isEmpty else {
            for address in creates { out.append(.create(.address(address))) }
            return out
        }
        var bySubnet: [RtnlIPv4Subnet: [InterfaceAddress]] = [:]
        var others: [InterfaceAddress] = []
        for address in creates {
            let subnet = RtnlIPv4Subnet(address)
            if address.family == .ipv4, swappedSubnets.contains(subnet) {
                bySubnet[subnet, default: []].append(address)
            } else {
                others.append(address)
            }
        }
        for address in addressRecreates { bySubnet[RtnlIPv4Subnet(address), default: []].append(address) }
        for address in others { out.append(.create(.address(address))) }
        for address in earlyDeletes {
            out.append(.delete(.address(address)))
            for create in bySubnet.removeValue(forKey: RtnlIPv4Subnet(address)) ?? [] { out.append(.create(.address(create))) }
        }
        return out
    }

    /// Ops this adds to a plan.
    var extraOps: Int { addressRecreates.count + routeRecreates.count }

    /// Whether an address op's delete was moved to the front.
    func moves(_ address: InterfaceAddress) -> Bool { moved.contains(address.key) }

    init(
        addressOps: [ReconcileOp<InterfaceAddress>], refused: [ReconcileOp<RtnlObject>: KernelError],
        observed: RtnlObserved, desired: RtnlResolvedState, index: RtnlDesiredIndex,
        routeOps: [ReconcileOp<RtnlObject>], routeProtocol: UInt8
    ) {
        let deletes = addressOps.compactMap { op -> InterfaceAddress? in
            guard case .delete(let address) = op, address.family == .ipv4,
                refused[.delete(.address(address))] == nil
            else { return nil }
            return address
        }
        guard !deletes.isEmpty else { return }
        var members: [RtnlIPv4Subnet: [InterfaceAddress]] = [:]
        for address in observed.addresses where address.family == .ipv4 {
            members[RtnlIPv4Subnet(address), default: []].append(address)
        }
        var wanted: [RtnlIPv4Subnet: [InterfaceAddress]] = [:]
        for address in desired.addresses where address.family == .ipv4 {
            wanted[RtnlIPv4Subnet(address), default: []].append(address)
        }
        var swapped = Set<RtnlIPv4Subnet>()
        for address in deletes {
            let subnet = RtnlIPv4Subnet(address)
            // Only the primary (first in the kernel's dump order) flushes.
            guard members[subnet]?.first?.key == address.key, let kept = wanted[subnet], !kept.isEmpty else { continue }
            earlyDeletes.append(address)
            moved.insert(address.key)
            swapped.insert(subnet)
        }
        guard !swapped.isEmpty else { return }
        swappedSubnets = swapped
        let present = Set(observed.addresses.lazy.map(\.key))
        for subnet in swapped.sorted(by: { ($0.ifindex, $0.network, $0.length) < ($1.ifindex, $1.network, $1.length) }) {
            for address in wanted[subnet] ?? [] where present.contains(address.key) {
                addressRecreates.append(address)
            }
        }
        var changing = Set<RtnlFastKey>()
        for op in routeOps { if case .route(let route) = op.item { changing.insert(RtnlFastKey(route)) } }
        // A link whose IPv4 addresses all sit in one swapped subnet has none for a moment, and
        // the kernel then flushes every IPv4 route through it (fib_disable_ip), not only those
        // via the subnet. (With two or more subnets, interleaved(creates:) keeps one present.)
        var subnetsByLink: [Int32: Set<RtnlIPv4Subnet>] = [:]
        for subnet in members.keys { subnetsByLink[subnet.ifindex, default: []].insert(subnet) }
        let emptied = Set(subnetsByLink.compactMap { link, subnets in
            subnets.count == 1 && swapped.isSuperset(of: subnets) ? link : nil
        })
        for route in observed.routes where route.proto == routeProtocol {
            let viaSwapped = route.gateway.map { gateway in
                swapped.contains(where: { $0.contains(gateway) && (route.ifindex == nil || route.ifindex == $0.ifindex) })
            } ?? false
            let throughEmptied = route.family == .ipv4 && route.ifindex.map(emptied.contains) ?? false
            guard viaSwapped || throughEmptied,
                let position = index.routes[RtnlFastKey(route)], !changing.contains(RtnlFastKey(route))
            else { continue }
            routeRecreates.append(desired.routes[position])
        }
    }
}
