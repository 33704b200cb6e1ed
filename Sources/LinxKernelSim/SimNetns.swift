import LinxReconcile

/// A link as the simulator keeps it.
struct SimLinkState: Sendable {
    var link: Link
    /// The other end of a veth pair.
    var peer: Int32?
    var isLoopback: Bool { link.kind == "loopback" }
}

/// An address plus where it sits in its link's address list.
///
/// The kernel keeps a link's IPv4 addresses in one list (ifa_list) that
/// dumps walk in order: primaries first, each new one after the last
/// primary of the same or wider scope; secondaries (a later address of a
/// subnet that already has one) appended at the end; a secondary promoted
/// on its primary's delete moves to the end of the primaries (checked on
/// Linux 6.18). IPv6 keeps its own list by scope, global before link-local,
/// the newest first within a scope.
struct SimAddressState: Sendable {
    var address: InterfaceAddress
    /// The order it was added in.
    var sequence: UInt64
    /// An IPv4 secondary; never set for IPv6.
    var secondary = false
    /// IPv4: when it took its place in the list (added, or promoted to
    /// primary). Orders primaries among themselves and secondaries among
    /// themselves.
    var rank: UInt64
    /// The IPv4 rt_scope (RT_SCOPE_HOST 254 for lo's own 127.0.0.1, else
    /// universe 0: what rtnetlink requests carry); host-scope primaries
    /// list before universe ones.
    var scope: UInt8 = 0
    /// The kernel's own ::1 on lo: no prefix route in table main.
    var noPrefixRoute = false
    /// IPv6: the prefix route was made once (inet6_addr_add makes it one
    /// time; a link coming up or gaining carrier does not make it again,
    /// so one deleted by hand stays deleted).
    var prefixRouteMade = false

    /// Sorts a namespace's addresses into dump order: every IPv4 address,
    /// link by link, then every IPv6 one (an AF_UNSPEC dump walks the
    /// families in turn, each over the links by index). For IPv4, primaries
    /// before secondaries, wider scope first, then by rank; for IPv6 the
    /// narrower scope number first, the newest first.
    ///
    /// The fields (family, index, secondary, scope, rank) packed into two
    /// words that compare as the fields would, one after the other (every
    /// address dump after a change sorts the namespace's addresses).
    var dumpOrder: (UInt64, UInt64) {
        let link = UInt64(UInt32(bitPattern: address.ifindex) ^ 0x8000_0000) << 16
        switch address.family {
        case .ipv4:
            return (link | (secondary ? 1 << 8 : UInt64(UInt8.max - scope)), rank)
        case .ipv6:
            return (1 << 56 | link | UInt64(UInt8.max - Self.ipv6Scope(address.address)), UInt64.max - sequence)
        }
    }

    /// ipv6_addr_src_scope, coarse: loopback 1, link-local 2, site-local 5,
    /// the rest global 14.
    static func ipv6Scope(_ address: IPAddress) -> UInt8 {
        guard case .v6(let high, let low) = address else { return 0 }
        if high == 0 && low == 1 { return 1 }
        switch high >> 54 {
        case 0x3FA: return 2  // fe80::/10
        case 0x3FB: return 5  // fec0::/10
        default: return 14
        }
    }
}

/// One network namespace: links, addresses, routes, its `net.` sysctls and
/// its event subscribers. Every mutation publishes its events.
struct SimNetns: Sendable {
    // The observers keep `views` true to what it caches (see SimNetnsViews);
    // without oldValue they leave the in-place mutations in place.
    var links: [Int32: SimLinkState] = [:] { didSet { views.linksChanged() } }
    /// Changes exactly when a link comes or goes (names are never changed
    /// in place): nf_tables listings name `iif`/`oif` indices by it.
    var indexByName: [String: Int32] = [:] { didSet { nftables.linksChanged() } }
    /// Indices are per namespace, monotonic, never reused.
    var nextIndex: Int32 = 1
    var addresses: [InterfaceAddress.Key: SimAddressState] = [:] { didSet { views.addressesChanged() } }
    var addressSequence: UInt64 = 0
    var routes = RouteStore() { didSet { views.routesChanged() } }
    /// The dumps made since the last change of `links`, `addresses` or `routes`.
    var views = SimNetnsViews()
    /// The routing tables that exist per family: main and local from the
    /// start, any other once a route add named it (even a refused one:
    /// fib_new_table runs before the route is checked). A delete in a
    /// table that does not exist is ESRCH "FIB table does not exist".
    var tables = SimRouteTables()
    /// The `net.` files, and which per-interface files were written since
    /// the interface appeared (the kernel's cnf.state bits: the others
    /// follow conf.default).
    var sysctl = SimSysctlFiles(SysctlCatalog.bootNetns())
    var subscribers: [SimSubscriber<RtnlEvent>] = []
    /// nf_tables: tables, the generation id, the nf_tables monitors.
    var nftables = SimNftables()
    /// Events dropped by a full subscriber buffer since boot.
    var eventsLost = 0
    /// True while a batch of requests runs (``SimState/holdEvents(in:)``):
    /// its events wait in ``heldEvents`` and reach each monitor under one
    /// lock when the batch ends, instead of one lock per event per monitor.
    var holdsEvents = false
    var heldEvents: [RtnlEvent] = []

    /// A fresh namespace: `lo` (index 1), up or down. The namespace a
    /// machine boots in has lo up with 127.0.0.1/8 and ::1/128; `ip netns
    /// add` gives lo down with no address (checked on Linux 6.18).
    static func boot(loopbackUp: Bool) -> SimNetns { loopbackUp ? bootedUp : bootedDown }

    /// The two boot states, made once: booting is deterministic (no seed,
    /// no subscribers), and a fuzzing campaign boots namespaces thousands
    /// of times, each a copy-on-write share of these.
    private static let bootedUp = booting(loopbackUp: true)
    private static let bootedDown = booting(loopbackUp: false)

    private static func booting(loopbackUp: Bool) -> SimNetns {
        var ns = SimNetns()
        // lo is created down, then set up, so its addresses arrive the way the kernel adds them.
        _ = try! ns.addLink(name: "lo", kind: "loopback", up: false, mtu: 65536)
        if loopbackUp { try! ns.setUp(1, true) }
        return ns
    }

    // MARK: events

    mutating func publish(_ event: RtnlEvent) {
        guard !subscribers.isEmpty else { return }
        if holdsEvents {
            // A gone reader is dropped at the first event after it went, as
            // when each event is offered at once: what is held goes first.
            if !subscribers.contains(where: \.isGone) {
                heldEvents.append(event)
                return
            }
            deliverHeldEvents()
            guard !subscribers.isEmpty else { return }
        }
        var anyClosed = false
        for subscriber in subscribers {
            switch subscriber.offer(event) {
            case .accepted: break
            case .lost: eventsLost += 1
            case .closed: anyClosed = true
            }
        }
        if anyClosed { subscribers.removeAll { $0.isClosed } }
    }

    /// Offers the held events to every monitor, one lock each, in the order
    /// they were published; holding goes on (see ``holdsEvents``). The same
    /// buffers, losses and overflow marks as offering each event at once
    /// while the reader does not run in between.
    mutating func deliverHeldEvents() {
        guard !heldEvents.isEmpty else { return }
        var anyClosed = false
        for subscriber in subscribers {
            let (lost, closed) = subscriber.offer(contentsOf: heldEvents)
            eventsLost += lost
            if closed { anyClosed = true }
        }
        heldEvents.removeAll(keepingCapacity: true)
        if anyClosed { subscribers.removeAll { $0.isClosed } }
    }

    // MARK: links

    /// The links as nf_tables sees them (`iif`/`oif`).
    var linkNames: SimNftables.LinkNames { SimNftables.LinkNames(indices: indexByName, links: links) }

    func index(of name: String) throws(KernelError) -> Int32 {
        guard let index = indexByName[name] else { throw KernelError(.noSuchDevice, "no interface \(name)") }
        return index
    }

    func linkState(_ index: Int32) throws(KernelError) -> SimLinkState {
        guard let link = links[index] else { throw KernelError(.noSuchDevice, "no interface with index \(index)") }
        return link
    }

    mutating func addLink(name: String, kind: String, up: Bool, mtu: UInt32, peer: Int32? = nil) throws(KernelError) -> Int32 {
        guard !name.isEmpty, name.utf8.count < 16, name != ".", name != "..",
            !name.contains(where: { $0 == "/" || $0 == ":" || $0 == " " || $0 == "\t" || $0 == "\n" })
        else { throw KernelError(.invalidArgument, "invalid interface name \"\(name)\"") }
        guard indexByName[name] == nil else { throw KernelError(.fileExists, "interface \(name) exists") }
        // Ethernet-like devices refuse an MTU under 68 (Linux 6.18: "mtu less than device minimum").
        guard kind == "loopback" || mtu >= 68 else { throw KernelError(.invalidArgument, "mtu less than device minimum") }
        let index = nextIndex
        nextIndex += 1
        links[index] = SimLinkState(link: Link(index: index, name: name, kind: kind, isUp: false, mtu: mtu), peer: peer)
        indexByName[name] = index
        sysctl.createLink(name, ipv6: mtu >= 1280, mtu: mtu)
        if kind == "loopback" {
            // inetdev_init sets NOXFRM and NOPOLICY on lo (marked as written); ipv6_add_dev gives lo
            // accept_dad and use_tempaddr -1 (Linux 6.18).
            for leaf in ["disable_policy", "disable_xfrm"] {
                sysctl["net/ipv4/conf/\(name)/\(leaf)"] = "1"
                sysctl.markWritten("net/ipv4/conf/\(name)/\(leaf)")
            }
            for leaf in ["accept_dad", "use_tempaddr"] where sysctl["net/ipv6/conf/\(name)/\(leaf)"] != nil {
                sysctl["net/ipv6/conf/\(name)/\(leaf)"] = "-1"
            }
        }
        publish(.link(links[index]!.link, .new))
        if up { try setUp(index, true) }
        return index
    }

    /// Admin up/down with the kernel's side effects: up adds the connected
    /// and broadcast routes of the link's IPv4 addresses, lo's loopback
    /// addresses, the prefix routes of its IPv6 addresses and, once it has
    /// carrier, its link-local address (see ``enableIPv6(on:)``); down
    /// flushes every route through the link except IPv4 host-scope ones, and
    /// every IPv6 address (keep_addr_on_down is 0).
    mutating func setUp(_ index: Int32, _ up: Bool) throws(KernelError) {
        var state = try linkState(index)
        guard state.link.isUp != up else { return }
        state.link.isUp = up
        links[index] = state
        publish(.link(state.link, .new))
        if up {
            for entry in addressesOrdered(on: index) where entry.address.family == .ipv4 {
                addPrefixRoutes(for: entry)
            }
            if state.isLoopback {
                // inetdev_event marks lo's conf files set as it adds 127.0.0.1.
                markConfSet(on: index)
                let v4 = InterfaceAddress(ifindex: index, address: .v4(0x7F00_0001), prefixLength: 8)
                if addresses[v4.key] == nil { try? addAddress(v4, scope: 254) }
            }
            enableIPv6(on: index)
            // a veth's peer gains carrier with it
            if let peer = state.peer { enableIPv6(on: peer) }
        } else {
            flushIPv6(on: index)
            let gone = routes.removeAll { route in
                // Host-scope IPv4 routes (local ones, in any table) keep their nexthop: its scope is
                // "nowhere", which fib_sync_down_dev leaves alone (checked on Linux 6.18).
                route.ifindex == index && !(route.family == .ipv4 && route.scope == 254)
            }
            for route in gone { publish(.route(route, .deleted)) }
        }
    }

    /// Deletes a link (and its veth peer) with everything through it.
    mutating func removeLink(_ index: Int32) throws(KernelError) {
        let state = try linkState(index)
        if state.isLoopback { throw KernelError(.notSupported, "lo cannot be deleted") }
        try destroy(index)
        if let peer = state.peer, links[peer] != nil { try destroy(peer) }
    }

    private mutating func destroy(_ index: Int32) throws(KernelError) {
        let state = try linkState(index)
        for entry in addressesOrdered(on: index) {
            addresses[entry.address.key] = nil
            publish(.address(entry.address, .deleted))
        }
        let gone = routes.removeAll { $0.ifindex == index }
        for route in gone { publish(.route(route, .deleted)) }
        sysctl.removeLink(state.link.name)
        links[index] = nil
        indexByName[state.link.name] = nil
        var link = state.link
        link.isUp = false
        publish(.link(link, .deleted))
    }

    // MARK: IPv6 per-link state

    func ipv6Disabled(on index: Int32) -> Bool {
        guard let name = links[index]?.link.name else { return true }
        return (sysctl.linkValue(SysctlCatalog.ipv6ConfDirectory, SysctlCatalog.ipv6DisableIPv6, of: name) ?? "0") != "0"
    }

    /// IPv6 needs an MTU of at least 1280: below it the kernel keeps no IPv6
    /// state for the link (no net.ipv6.conf.IFACE, addresses refused with
    /// EINVAL; checked on Linux 6.18).
    func ipv6Capable(_ index: Int32) -> Bool { (links[index]?.link.mtu ?? 0) >= 1280 }

    /// Carrier: an up link has it, except a veth whose peer is down (what
    /// addrconf waits for before it makes the link-local address).
    func hasCarrier(_ index: Int32) -> Bool {
        guard let state = links[index], state.link.isUp else { return false }
        guard let peer = state.peer else { return true }
        return links[peer]?.link.isUp ?? false
    }

    /// On an up link with IPv6 on: the routes of IPv6 addresses already on
    /// it; with carrier also the link-local address (lo: ::1) and the
    /// ff00::/8 multicast route, as addrconf makes them (Linux 6.18, checked
    /// with accept_dad 0: the simulator models the state after DAD).
    mutating func enableIPv6(on index: Int32) {
        guard let state = links[index], state.link.isUp, ipv6Capable(index), !ipv6Disabled(on: index) else { return }
        for entry in addressesOrdered(on: index) where entry.address.family == .ipv6 {
            addPrefixRoutes(for: entry)
        }
        guard hasCarrier(index) else { return }
        let extra: InterfaceAddress
        if state.isLoopback {
            extra = InterfaceAddress(ifindex: index, address: .v6(high: 0, low: 1), prefixLength: 128)
        } else {
            // EUI-64 of a locally administered MAC 02:00:00:00:hi:lo.
            let low: UInt64 = 0x0000_00FF_FE00_0000 | UInt64(UInt32(bitPattern: index) & 0xFFFF)
            extra = InterfaceAddress(ifindex: index, address: .v6(high: 0xFE80_0000_0000_0000, low: low), prefixLength: 64)
            addMulticastRoute(on: index)
        }
        if !addresses.values.contains(where: { $0.address.ifindex == index && $0.address.address == extra.address }) {
            try? addAddress(extra, noPrefixRoute: state.isLoopback)
        }
        syncAnycast(on: index)
    }

    /// addrconf_add_dev's ff00::/8 route in table local (not on lo): made
    /// with the link-local address, and by an IPv6 address added to an up
    /// link even without carrier (not to a down one; Linux 6.18).
    mutating func addMulticastRoute(on index: Int32) {
        guard let state = links[index], !state.isLoopback else { return }
        let multicast = Route(
            destination: try! IPPrefix(.v6(high: 0xFF00_0000_0000_0000, low: 0), length: 8), ifindex: index,
            table: RouteTable.local, metric: 256, proto: RouteProtocol.kernel, type: .multicast)
        if routes.insertKernel(multicast) { publish(.route(multicast, .new)) }
    }

    /// With IPv6 forwarding on for a link, the kernel joins the
    /// subnet-router anycast address of each of its IPv6 addresses with a
    /// prefix shorter than /127 (fe80:: for the link-local one), each an
    /// anycast route in table local (metric 0), on a down link too; turning
    /// forwarding off or losing the last address of the subnet leaves it
    /// (checked on Linux 6.18). Brings the link's anycast routes in line.
    mutating func syncAnycast(on index: Int32) {
        guard let state = links[index] else { return }
        let forwarding = (sysctl.linkValue(SysctlCatalog.ipv6ConfDirectory, SysctlCatalog.ipv6Forwarding, of: state.link.name) ?? "0") != "0"
        var wanted: [Route] = []
        if forwarding && ipv6Capable(index) && !ipv6Disabled(on: index) {
            for entry in addressesOrdered(on: index) where entry.address.family == .ipv6 && entry.address.prefixLength < 127 {
                let anycast = entry.address.address.masked(to: entry.address.prefixLength)
                if anycast == .v6(high: 0, low: 0) { continue }  // addrconf_join_anycast skips ::
                var route = Route(
                    destination: try! IPPrefix(anycast, length: 128),
                    ifindex: index, table: RouteTable.local, proto: RouteProtocol.kernel, type: .anycast)
                route.metric = 0
                if !wanted.contains(route) { wanted.append(route) }
            }
        }
        // No anycast route anywhere (forwarding off, the common case): nothing to walk for.
        let stale = routes.anycastCount == 0 ? [] : routes.removeAll { route in
            route.ifindex == index && route.type == .anycast && route.proto == RouteProtocol.kernel
                && route.table == RouteTable.local && route.family == .ipv6 && !wanted.contains(route)
        }
        for route in stale { publish(.route(route, .deleted)) }
        for route in wanted where routes.insertKernel(route) { publish(.route(route, .new)) }
    }

    /// Removes every IPv6 address of the link and every IPv6 route through it.
    mutating func flushIPv6(on index: Int32) {
        for entry in addressesOrdered(on: index) where entry.address.family == .ipv6 {
            addresses[entry.address.key] = nil
            publish(.address(entry.address, .deleted))
        }
        let gone = routes.removeAll { $0.ifindex == index && $0.family == .ipv6 }
        for route in gone { publish(.route(route, .deleted)) }
    }

    // MARK: snapshots

    func addressesOrdered(on index: Int32? = nil) -> [SimAddressState] {
        addresses.values
            .filter { index == nil || $0.address.ifindex == index }
            .sorted { $0.sequence < $1.sequence }
    }

    var linkList: [Link] { links.keys.sorted().map { links[$0]!.link } }

    /// The addresses as a dump lists them: the kernel's list order (see
    /// ``SimAddressState``), not sorted by key, since callers read "the first
    /// address of a subnet" as its primary.
    var addressList: [InterfaceAddress] { addresses.values.sorted { $0.dumpOrder < $1.dumpOrder }.map(\.address) }
}

/// The routing tables that exist, per family: a few ids each, kept in
/// arrays (every route add names its table).
struct SimRouteTables: Sendable {
    private var ipv4: [UInt32] = [RouteTable.main, RouteTable.local]
    private var ipv6: [UInt32] = [RouteTable.main, RouteTable.local]

    func contains(_ table: UInt32, family: AddressFamily) -> Bool {
        family == .ipv4 ? ipv4.contains(table) : ipv6.contains(table)
    }

    mutating func insert(_ table: UInt32, family: AddressFamily) {
        guard !contains(table, family: family) else { return }
        switch family {
        case .ipv4: ipv4.append(table)
        case .ipv6: ipv6.append(table)
        }
    }
}
