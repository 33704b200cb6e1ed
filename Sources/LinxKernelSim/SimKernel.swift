import LinxReconcile
import Synchronization

/// A simulated Linux kernel: network namespaces (links, addresses, routes,
/// `net.` sysctls), the machine-wide sysctls, and a cgroup v2 tree, behind
/// the same backend protocols as the real one.
///
/// It refuses what the kernel refuses, with the kernel's errno, and makes
/// the side effects the kernel makes. It is deterministic: one seed gives
/// one history. It is thread-safe through one mutex rather than an actor,
/// because it is the engine under fuzzing and must stay fast; its async
/// methods never suspend (except reading an event stream).
///
/// Direct methods (``snapshot(of:)``, `sysctlValue(_:in:)`,
/// ``cgroupValue(_:in:)``) inspect state without going through the backend
/// protocols and never fire faults; ``foreign`` changes state as someone
/// else would.
///
/// ```swift
/// let kernel = SimKernel(seed: 42)
/// let (v0, _) = try kernel.addVethPair("v0", "v1")
/// let reconciler = RtnlReconciler(backend: kernel)      // any backend user
/// kernel.raceNextCreates(1)                              // scripted fault
/// kernel.arm(SimFaultPlan.random(seed: 42))              // or a seeded plan
/// _ = try await reconciler.reconcile(in: .current, desired: desired)
/// kernel.drift(steps: 5)                                 // someone else meddles
/// #expect(kernel.faultsFired[.eexistRace] == 1)
/// print(kernel.historyText)                              // replayable log
/// ```
///
/// Fidelity is checked, not assumed: the test suite replays seeded random
/// operation sequences on this simulator and, as root, on the real kernel
/// in a throwaway namespace (routes, addresses, links, sysctl writes, cgroup
/// core files) and compares errno and state after every step.
public final class SimKernel: Sendable {
    /// The seed every random choice of this kernel derives from.
    public let seed: UInt64
    let state: Mutex<SimState>

    /// A machine just booted: the current namespace holds `lo` (index 1, up,
    /// 127.0.0.1/8 and ::1/128), the sysctls hold their boot defaults, the
    /// cgroup tree holds its root at /sys/fs/cgroup.
    /// - Parameters:
    ///   - seed: drives drift, random fault plans and fractional faults.
    ///   - eventBufferCapacity: events a subscriber buffers before it
    ///     overflows (a netlink socket's receive buffer).
    ///   - recordsHistory: keep the operation log (turn off for benchmarks).
    public init(seed: UInt64 = 0, eventBufferCapacity: Int = 1024, recordsHistory: Bool = true) {
        self.seed = seed
        state = Mutex(SimState(seed: seed, recordsHistory: recordsHistory, eventCapacity: eventBufferCapacity))
    }

    /// A kernel holding what `template` holds now, with its own seed: the
    /// kernel that `SimKernel(seed: seed)` plus the admin operations made on
    /// `template` would give, without redoing them. Fuzzing makes the same
    /// sandbox (a namespace, two links) thousands of times a second; its
    /// states share storage copy-on-write until one of them writes.
    ///
    /// - Precondition: `template` drew nothing from its random stream (so
    ///   the seed's stream starts where a fresh kernel's does), has no
    ///   subscriber, monitor or name watcher (they belong to one kernel), no
    ///   fault armed and no nf_tables socket handed out.
    package init(copying template: SimKernel, seed: UInt64) {
        self.seed = seed
        var copy = template.state.withLock { $0 }
        precondition(
            copy.rng == SimRandom(seed: template.seed) && !copy.faults.isArmed && copy.faults.fired.isEmpty
                && copy.nextNftPort == 2
                && copy.names.isQuiet && copy.namespaces.values.allSatisfy { $0.subscribers.isEmpty && $0.nftables.subscribers.isEmpty },
            "SimKernel(copying:) needs a template that drew nothing and has no subscriber, fault or socket")
        copy.rng = SimRandom(seed: seed)
        state = Mutex(copy)
    }

    // MARK: namespaces

    /// Creates a namespace as `ip netns add` does: `lo` down, no address.
    /// EEXIST when it exists.
    public func createNamespace(_ scope: NetnsScope) throws(KernelError) {
        try admin("netns add \(scope)", nil) { s throws(KernelError) in
            guard s.namespaces[scope] == nil else { throw KernelError(.fileExists, "\(scope) exists") }
            var fresh = SimNetns.boot(loopbackUp: false)
            for (path, value) in s.machineWideSysctl { fresh.sysctl[path] = value }
            s.namespaces[scope] = fresh
            s.namespaceOrder.append(scope)
            return s.names.named(scope)
        }.deliver()
    }

    /// Deletes a namespace's name, as `ip netns del` does. ENOENT when
    /// missing; the current namespace cannot be deleted (EBUSY).
    ///
    /// As in the kernel, a monitor opened in the namespace neither dies nor
    /// moves: it keeps the namespace alive (``pinnedNamespaces``) and hears
    /// nothing more, even after the name is given to a new namespace; it lets
    /// go when its reader closes it. Follow a name with
    /// ``namespaceIdentities(of:)``.
    public func deleteNamespace(_ scope: NetnsScope) throws(KernelError) {
        try admin("netns del \(scope)", nil) { s throws(KernelError) in
            guard let ns = s.namespaces[scope] else { throw KernelError(.noSuchFileOrDirectory, "no \(scope)") }
            guard scope != .current else { throw KernelError(.resourceBusy, "the current namespace cannot be deleted") }
            s.namespaces[scope] = nil
            s.namespaceOrder.removeAll { $0 == scope }
            return s.names.unnamed(scope, namespace: ns)
        }.deliver()
    }

    /// Events queued (unread) by the monitors of the deleted namespace
    /// `identity`: how a test shows such a monitor hears nothing.
    package func queuedEvents(inPinned identity: NamespaceIdentity) -> Int {
        state.withLock { s in
            s.names.orphans.filter { $0.identity == identity }
                .reduce(0) { $0 + $1.namespace.subscribers.reduce(0) { $0 + $1.backlog } }
        }
    }

    /// The namespace `scope` names now, nil when it names none.
    public func identity(of scope: NetnsScope) -> NamespaceIdentity? {
        state.withLock { $0.names.identities[scope] }
    }

    /// Deleted namespaces that live on because a monitor opened in them is
    /// still open, with how many such monitors each.
    public var pinnedNamespaces: [NamespaceIdentity: Int] {
        state.withLock { s in
            s.names.pruneOrphans()
            var pinned: [NamespaceIdentity: Int] = [:]
            for orphan in s.names.orphans {
                pinned[orphan.identity, default: 0] += orphan.namespace.subscribers.count { !$0.isClosed }
            }
            return pinned
        }
    }

    /// The namespaces that exist, in creation order.
    public var namespaces: [NetnsScope] { state.withLock { $0.namespaceOrder } }

    // MARK: links

    /// Creates a link and returns its index. EEXIST for a taken name,
    /// EINVAL for an invalid one, ENOENT for a missing namespace.
    @discardableResult
    public func addLink(
        _ name: String, kind: String = "veth", up: Bool = true, mtu: UInt32 = 1500, in scope: NetnsScope = .current
    ) throws(KernelError) -> Int32 {
        try admin("link add \(name) type \(kind)\(up ? " up" : "")", scope) { s throws(KernelError) in
            try s.withNetns(scope) { ns throws(KernelError) in try ns.addLink(name: name, kind: kind, up: up, mtu: mtu) }
        }
    }

    /// Creates a veth pair in one namespace; deleting either end deletes both.
    @discardableResult
    public func addVethPair(_ a: String, _ b: String, up: Bool = true, in scope: NetnsScope = .current) throws(KernelError) -> (Int32, Int32) {
        try admin("link add \(a) type veth peer \(b)\(up ? " up" : "")", scope) { s throws(KernelError) in
            try s.withNetns(scope) { ns throws(KernelError) in
                guard ns.indexByName[a] == nil, ns.indexByName[b] == nil, a != b else {
                    throw KernelError(.fileExists, "interface \(a) or \(b) exists")
                }
                let ia = try ns.addLink(name: a, kind: "veth", up: false, mtu: 1500)
                let ib = try ns.addLink(name: b, kind: "veth", up: false, mtu: 1500)
                ns.links[ia]!.peer = ib
                ns.links[ib]!.peer = ia
                if up {
                    try ns.setUp(ia, true)
                    try ns.setUp(ib, true)
                }
                return (ia, ib)
            }
        }
    }

    /// Creates a bridge.
    @discardableResult
    public func addBridge(_ name: String, up: Bool = true, in scope: NetnsScope = .current) throws(KernelError) -> Int32 {
        try addLink(name, kind: "bridge", up: up, in: scope)
    }

    /// Sets a link administratively up or down, with the kernel's effects on
    /// addresses and routes. ENODEV for an unknown link.
    public func setLink(_ name: String, up: Bool, in scope: NetnsScope = .current) throws(KernelError) {
        try admin("link set \(name) \(up ? "up" : "down")", scope) { s throws(KernelError) in
            try s.withNetns(scope) { ns throws(KernelError) in try ns.setUp(try ns.index(of: name), up) }
        }
    }

    /// Deletes a link (and its veth peer), flushing its addresses, routes and
    /// per-interface sysctls. ENODEV for an unknown link, EOPNOTSUPP for lo.
    public func removeLink(_ name: String, in scope: NetnsScope = .current) throws(KernelError) {
        try admin("link del \(name)", scope) { s throws(KernelError) in
            try s.withNetns(scope) { ns throws(KernelError) in try ns.removeLink(try ns.index(of: name)) }
        }
    }

    /// The index of link `name`, nil when there is none.
    public func ifindex(of name: String, in scope: NetnsScope = .current) -> Int32? {
        state.withLock { s in (try? s.withNetns(scope) { ns throws(KernelError) in ns.indexByName[name] }) ?? nil }
    }

    // MARK: cgroups

    /// Creates a cgroup v2 directory with its interface files at their
    /// defaults. EEXIST when it exists, ENOENT without a parent.
    public func createCgroup(_ path: String) throws(KernelError) {
        try admin("cgroup mkdir \(path)", nil) { s throws(KernelError) in try s.createCgroup(path) }
    }

    /// Removes a cgroup directory. ENOENT when missing, EBUSY with children.
    public func removeCgroup(_ path: String) throws(KernelError) {
        try admin("cgroup rmdir \(path)", nil) { s throws(KernelError) in try s.removeCgroup(path) }
    }

    // MARK: inspection (no faults, not logged)

    /// Links, addresses and routes of a namespace.
    public func snapshot(of scope: NetnsScope = .current) throws(KernelError) -> SimNetnsSnapshot {
        try state.withLock { s throws(KernelError) in
            try s.withNetns(scope) { ns throws(KernelError) in
                // Kernel routes can share a key across links: the interface breaks the tie.
                let routes = ns.dumpedRoutes(.all).sorted { ($0.key, $0.ifindex ?? 0) < ($1.key, $1.ifindex ?? 0) }
                return SimNetnsSnapshot(links: ns.dumpedLinks(), addresses: ns.dumpedAddresses(), routes: routes)
            }
        }
    }

    /// Like ``snapshot(of:)`` but with the routes in the store's dump order,
    /// unsorted: for callers that key every route into a map (the
    /// conformance subjects, on every pass), where sorting hundreds of routes
    /// per read is wasted work. The order still depends only on the
    /// operation history.
    public func unsortedSnapshot(of scope: NetnsScope = .current) throws(KernelError) -> SimNetnsSnapshot {
        try state.withLock { s throws(KernelError) in
            try s.withNetns(scope) { ns throws(KernelError) in
                SimNetnsSnapshot(links: ns.dumpedLinks(), addresses: ns.dumpedAddresses(), routes: ns.dumpedRoutes(.all))
            }
        }
    }

    /// Hands `scope`'s links (by index, with how many addresses and routes
    /// follow), then each address in no particular order, then each route
    /// in the store's dump order, to the bodies, under the kernel's lock:
    /// for a reader that keys everything into a map (the conformance
    /// subjects, after every pass), with no dump built, sorted or copied.
    /// Read directly: no backend call, no fault, not logged.
    package func visitRtnl(
        of scope: NetnsScope, links: (_ links: [Link], _ addresses: Int, _ routes: Int) -> Void,
        address: (InterfaceAddress) -> Void, route: (Route) -> Void
    ) throws(KernelError) {
        try state.withLock { s throws(KernelError) in
            try s.withNetns(scope) { ns throws(KernelError) in
                links(ns.dumpedLinks(), ns.addresses.count, ns.routes.count)
                for entry in ns.addresses.values { address(entry.address) }
                ns.routes.forEach(.all, route)
            }
        }
    }

    /// A number naming what `scope`'s links, addresses and routes are now
    /// (see ``snapshot(of:)``): it changes with any of them and is never
    /// reused, in this kernel or another, for other contents. A reader that
    /// kept what it made of a snapshot can tell it is still current.
    package func rtnlStamp(of scope: NetnsScope) throws(KernelError) -> UInt64 {
        try state.withLock { s throws(KernelError) in try s.withNetns(scope) { ns throws(KernelError) in ns.rtnlStamp() } }
    }

    /// The name of the link with index `index`, nil when there is none: a
    /// lookup that reads no dump.
    public func linkName(of index: Int32, in scope: NetnsScope = .current) -> String? {
        state.withLock { s in (try? s.withNetns(scope) { ns throws(KernelError) in ns.links[index]?.link.name }) ?? nil }
    }

    /// A sysctl's value as the kernel prints it (no trailing newline), nil
    /// when there is no such key or namespace.
    public func sysctlValue(_ key: String, in scope: NetnsScope = .current) -> String? {
        guard let key = try? SysctlKey(key) else { return nil }
        return state.withLock { try? $0.readSysctl(key, in: scope) }
    }

    /// A cgroup interface file's value, nil when missing.
    public func cgroupValue(_ file: String, in cgroup: String) -> String? {
        state.withLock { try? $0.readCgroup(file, in: cgroup) }
    }

    /// Number of routes in a namespace (0 when it does not exist).
    public func routeCount(in scope: NetnsScope = .current) -> Int {
        state.withLock { s in (try? s.withNetns(scope) { ns throws(KernelError) in ns.routes.count }) ?? 0 }
    }

    // MARK: history

    /// Every logged operation and its outcome, in order.
    public var history: [SimHistoryEntry] { state.withLock { $0.history.entries } }

    /// The history as text, one entry a line: compare two runs byte for byte.
    public var historyText: String {
        state.withLock { $0.history.entries.map(\.description).joined(separator: "\n") }
    }

    /// Turns the history on or off (off for benchmarks).
    public var recordsHistory: Bool {
        get { state.withLock { $0.history.enabled } }
        set { state.withLock { $0.history.enabled = newValue } }
    }

    /// Runs an admin operation under the lock and logs it.
    func admin<T>(_ what: @autoclosure () -> String, _ scope: NetnsScope?, _ body: (inout SimState) throws(KernelError) -> T) throws(KernelError) -> T {
        try state.withLock { s throws(KernelError) in
            do throws(KernelError) {
                let result = try body(&s)
                s.history.record(.admin, scope, .note(what()), .ok)
                return result
            } catch {
                s.history.record(.admin, scope, .note(what()), .failed(error))
                throw error
            }
        }
    }
}
