import LinxKernelSim
import LinxReconcile

/// The built-in subject for ``/LinxReconcile/RtnlSource`` on the simulated kernel.
///
/// Each case gets a fresh kernel with a namespace holding `eth0` and `eth1`.
/// Desired states use 10.1-2.x.x addresses and routes to 10.200.x.0/24 (and
/// fd00:: for IPv6) through gateways on those subnets; foreign state lives in
/// 192.168/16, 172.16/16 and 198.18/15 with protocols boot and static, so the
/// two never share a key. The kernel's own routes (proto kernel) are not in
/// snapshots: they are side effects of addresses, owned by nobody.
public struct RtnlSimSubject: ConformanceSubject {
    public typealias Source = RtnlSource
    public typealias Sandbox = SimSandbox<NetnsScope>
    public typealias EntryKey = RtnlEntry
    public typealias EntryValue = RtnlValue

    public static let links = ["eth0", "eth1"]
    static let namespace = NetnsScope.named("linx-conformance")

    /// False reads every snapshot afresh: the path the kept snapshots
    /// replaced, for tests that compare the two.
    package var keepsSnapshots = true

    public init() {}

    public var name: String { "rtnl/sim" }
    public var capabilities: Set<SubjectCapability> {
        [.faultInjection, .monitorTriggers, .overflowTrigger, .mutationJournal]
    }
    public var emptyDesired: RtnlDesiredState { .empty }
    public var emptyLastApplied: RtnlLastApplied { .empty }

    public func makeSandbox(seed: UInt64) async throws -> Sandbox {
        SimSandbox(kernel: SimKernel(copying: Self.template, seed: seed), scope: Self.namespace)
    }

    /// The kernel every sandbox starts from: booted, the namespace made, its
    /// lo up and the two veths added (seedless, so one serves every seed;
    /// each sandbox is a copy-on-write share of it, history included).
    private static let template: SimKernel = {
        let kernel = SimKernel(seed: 0)
        try! kernel.createNamespace(namespace)
        try! kernel.setLink("lo", up: true, in: namespace)
        for link in links { try! kernel.addLink(link, kind: "veth", up: true, in: namespace) }
        return kernel
    }()

    public func tearDown(_ sandbox: Sandbox) async {}

    public func source(for sandbox: Sandbox) -> RtnlSource { RtnlSource(backend: sandbox.kernel) }
    public func scope(of sandbox: Sandbox) -> NetnsScope { sandbox.scope }
    public func options(for sandbox: Sandbox) -> RtnlOptions { .default }

    public func validDesired(in sandbox: Sandbox, using random: inout SimRandom) -> RtnlDesiredState {
        RtnlStateModel.validDesired(links: Self.links, using: &random)
    }

    public func invalidDesired(in sandbox: Sandbox) -> [InvalidDesired<RtnlDesiredState>] {
        RtnlStateModel.invalidDesired(link: "eth0")
    }

    public func expectedEntries(for desired: RtnlDesiredState, in sandbox: Sandbox) -> [RtnlEntry: RtnlValue] {
        RtnlStateModel.expectedEntries(for: desired, routeProtocol: RouteProtocol.linx)
    }

    public func effect(of op: ReconcileOp<RtnlObject>, in sandbox: Sandbox) -> OpEffect<RtnlEntry, RtnlValue> {
        // A closure capturing the sandbox copies it (four retains and
        // releases), and the audit asks for the effect of every op of every
        // pass: it is made only when the model will call it, for an address
        // that carries no interface name (reports name every address).
        guard RtnlStateModel.effectNamesLink(op) else { return RtnlStateModel.effect(of: op) { _ in nil } }
        return RtnlStateModel.effect(of: op) { index in linkName(index, in: sandbox) }
    }

    public func sideEffects(
        of op: ReconcileOp<RtnlObject>, before: ScopeSnapshot<RtnlEntry, RtnlValue>, in sandbox: Sandbox
    ) -> Set<RtnlEntry> {
        // The closures capture the sandbox and `before` (copies, retains),
        // and the audit asks about every op of every pass: made only for an
        // op the model can find a flush for.
        guard RtnlStateModel.mayFlush(op) else { return [] }
        var addressesNow: Set<RtnlEntry>?
        return RtnlStateModel.sideEffects(
            of: op, before: before, name: { index in linkName(index, in: sandbox) },
            routesThrough: { link in
                sandbox.memo.dump(behind: before.reading, as: RtnlRouteDevices.self)?.routes(through: link)
            },
            holdsNow: { entry in
                if addressesNow == nil { addressesNow = Self.addressEntries(in: sandbox) }
                return addressesNow!.contains(entry)
            })
    }

    /// The scope's address entries as it is now.
    private static func addressEntries(in sandbox: Sandbox) -> Set<RtnlEntry> {
        var entries: [RtnlEntry: RtnlValue] = [:]
        var devices: [RtnlRouteDevices.Route] = []
        guard (try? read(sandbox.kernel, sandbox.scope, host: false, into: &entries, devices: &devices, routes: false)) != nil
        else { return [] }
        return Set(entries.keys)
    }

    private func linkName(_ index: Int32, in sandbox: Sandbox) -> String? {
        sandbox.kernel.linkName(of: index, in: sandbox.scope)
    }

    public func release(from desired: RtnlDesiredState, in sandbox: Sandbox, using random: inout SimRandom)
        -> Release<RtnlDesiredState, RtnlEntry, RtnlValue>?
    {
        RtnlStateModel.release(from: desired, using: &random)
    }

    public func ownedEntries(
        in lastApplied: RtnlLastApplied, scope: ScopeSnapshot<RtnlEntry, RtnlValue>, in sandbox: Sandbox
    ) -> Set<RtnlEntry>? {
        RtnlStateModel.ownedEntries(in: lastApplied, scope: scope, options: options(for: sandbox))
    }

    public func snapshot(of sandbox: Sandbox) async throws -> ScopeSnapshot<RtnlEntry, RtnlValue> {
        guard keepsSnapshots else { return try Self.readSnapshot(of: sandbox) }
        // Both namespaces unchanged since the last read (their stamps say
        // so): the same entries, without rebuilding the map.
        let stamps = [try sandbox.kernel.rtnlStamp(of: sandbox.scope), try sandbox.kernel.rtnlStamp(of: .current)]
        if let kept = sandbox.memo.snapshot(at: stamps, as: ScopeSnapshot<RtnlEntry, RtnlValue>.self) { return kept }
        let snapshot = try Self.readSnapshot(of: sandbox)
        sandbox.memo.store(snapshot, at: stamps)
        return snapshot
    }

    /// The snapshot, read afresh.
    static func readSnapshot(of sandbox: Sandbox) throws -> ScopeSnapshot<RtnlEntry, RtnlValue> {
        var entries: [RtnlEntry: RtnlValue] = [:]
        var devices = RtnlRouteDevices()
        devices.links = try read(sandbox.kernel, sandbox.scope, host: false, into: &entries, devices: &devices.routes)
        var hostDevices: [RtnlRouteDevices.Route] = []
        try read(sandbox.kernel, .current, host: true, into: &entries, devices: &hostDevices)
        let snapshot = ScopeSnapshot(entries)
        // The entries leave out each route's device; the audit needs it when
        // a link loses its last IPv4 address (see `sideEffects`).
        sandbox.memo.remember(devices, behind: snapshot.reading)
        return snapshot
    }

    /// Adds the entries of `scope` (as ``add(links:addresses:routes:host:to:)``
    /// makes them from its dumps) to `entries`, visiting the namespace in
    /// place: no dump is built or sorted. The order does not matter: every
    /// address has an entry of its own, and so does every route that is
    /// not the kernel's (only kernel routes share a key, and those are left
    /// out). Also lists in `devices` the device of each IPv4 route that is
    /// not the kernel's, in dump order. Returns the links.
    @discardableResult
    static func read(
        _ kernel: SimKernel, _ scope: NetnsScope, host: Bool, into entries: inout [RtnlEntry: RtnlValue],
        devices: inout [RtnlRouteDevices.Route], routes readsRoutes: Bool = true
    ) throws -> [Link] {
        var names = LinkNames()
        try kernel.visitRtnl(
            of: scope,
            links: { found, addresses, routes in
                names = LinkNames(found)
                entries.reserveCapacity(entries.count + addresses + (readsRoutes ? routes : 0))
                // At most one device per route: grown once, not doubling through the walk.
                if readsRoutes { devices.reserveCapacity(devices.count + routes) }
            },
            address: { address in add(address, names: names, host: host, to: &entries) },
            route: { route in
                guard readsRoutes, add(route, host: host, to: &entries) else { return }
                if route.family == .ipv4, let index = route.ifindex { devices.append((route.key, index)) }
            })
        return names.links
    }

    /// A reading's link names by index. A namespace has a handful of links:
    /// found by a walk, not a map built for every reading (a map only for a
    /// crowded host).
    struct LinkNames {
        private(set) var links: [Link] = []
        private var byIndex: [Int32: String] = [:]

        init(_ links: [Link] = []) {
            self.links = links
            if links.count > 8 { for link in links { byIndex[link.index] = link.name } }
        }

        /// The link's name, or `#INDEX` for a link the reading does not hold.
        func name(_ index: Int32) -> String {
            (links.count > 8 ? byIndex[index] : links.first { $0.index == index }?.name) ?? "#\(index)"
        }
    }

    /// An address's snapshot entry; none for an IPv6 link-local address
    /// (the kernel makes those).
    static func add(_ address: InterfaceAddress, names: LinkNames, host: Bool, to entries: inout [RtnlEntry: RtnlValue]) {
        guard !address.address.isIPv6LinkLocal else { return }
        let key = RtnlEntry.address(
            host: host, interface: names.name(address.ifindex), address: address.address, prefixLength: address.prefixLength)
        entries[key] = RtnlValue(address)
    }

    /// A route's snapshot entry; none for the kernel's own routes (proto
    /// kernel: side effects of addresses, owned by nobody). Returns whether
    /// it has one.
    @discardableResult
    static func add(_ route: Route, host: Bool, to entries: inout [RtnlEntry: RtnlValue]) -> Bool {
        guard route.proto != RouteProtocol.kernel else { return false }
        entries[.route(host: host, key: route.key)] = RtnlValue(route)
        return true
    }

    static func add(_ snapshot: SimNetnsSnapshot, host: Bool, to entries: inout [RtnlEntry: RtnlValue]) {
        add(links: snapshot.links, addresses: snapshot.addresses, routes: snapshot.routes, host: host, to: &entries)
    }

    /// Snapshot entries for a namespace's dumps: every address but IPv6
    /// link-local ones, every route but the kernel's own.
    static func add(
        links: [Link], addresses: [InterfaceAddress], routes: [Route], host: Bool, to entries: inout [RtnlEntry: RtnlValue]
    ) {
        let names = LinkNames(links)
        for address in addresses { add(address, names: names, host: host, to: &entries) }
        for route in routes { add(route, host: host, to: &entries) }
    }

    public func makeForeignState(in sandbox: Sandbox, avoiding desired: RtnlDesiredState, using random: inout SimRandom)
        async throws -> [RtnlEntry: RtnlValue]
    {
        try await RtnlForeignWriter(sandbox).makeForeignState(links: Self.links, using: &random)
    }

    public func drift(in sandbox: Sandbox, desired: RtnlDesiredState, using random: inout SimRandom)
        async throws -> Drift<RtnlEntry, RtnlValue>
    {
        try await RtnlForeignWriter(sandbox).drift(desired: desired, links: Self.links, using: &random)
    }

    /// The kernel's history counts every request the Source sent.
    public func mutationStamp(of sandbox: Sandbox) async throws -> MutationStamp? {
        MutationStamp.backendWrites(of: sandbox.kernel)
    }

    public func injectFaults(in sandbox: Sandbox, using random: inout SimRandom) async throws {
        for op in [SimOperation.addAddress, .addRoute, .replaceRoute, .deleteRoute, .deleteAddress] {
            sandbox.kernel.failFraction(0.2, of: op, with: random.pick([.resourceBusy, .noMemory]))
        }
        sandbox.kernel.failFraction(0.05, of: .routeDump, with: .noBufferSpace)
        // A refusal in the middle of a batch, the later requests still run
        // (the real kernel's pipelined sends): reports must say so exactly.
        sandbox.kernel.failMidBatch(0.3, with: random.pick([.networkUnreachable, .permissionDenied]))
    }

    public func stopFaults(in sandbox: Sandbox) async throws {
        sandbox.kernel.clearFaults()
    }

    public func triggerChange(in sandbox: Sandbox) async throws {
        let index = sandbox.kernel.ifindex(of: "eth1", in: sandbox.scope) ?? 0
        try sandbox.kernel.foreign.addAddress(
            InterfaceAddress(ifindex: index, address: try IPAddress("198.51.100.7"), prefixLength: 24), in: sandbox.scope)
    }

    public func triggerOverflow(in sandbox: Sandbox) async throws {
        sandbox.kernel.overflowSubscribers(in: sandbox.scope)
    }
}
