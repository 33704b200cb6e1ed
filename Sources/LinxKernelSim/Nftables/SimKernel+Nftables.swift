import LinxReconcile
import SystemPackage

/// nf_tables on the simulated kernel. ``SimKernel`` itself is one netlink
/// socket (port 1, open for the kernel's life); ``nftSocket()`` opens more,
/// as other processes would, and closing one removes the owner tables it
/// holds.
extension SimKernel: NftablesBackend {
    /// The port of the kernel's own socket.
    static let defaultNftPort: UInt32 = 1

    public func observeTable(_ table: NftTableRef, in scope: NetnsScope) async throws(KernelError) -> NftObservation {
        try state.withLock { s throws(KernelError) in
            if let error = s.nftFault(.observe, in: scope) { throw error }
            // In place: a copy of the namespace would retain all of it.
            return try s.withNetns(scope) { ns throws(KernelError) in
                NftObservation(generation: ns.nftables.generation, table: ns.nftables.listing(table, links: ns.linkNames))
            }
        }
    }

    public func commit(_ commands: [NftCommand], expecting generation: UInt32, in scope: NetnsScope) async throws(NftTransactionError) -> UInt32 {
        try nftCommit(commands, expecting: generation, port: Self.defaultNftPort, in: scope)
    }

    /// Checked against `scope`'s links (`iif`/`oif` names resolve there, as
    /// on the real kernel, where the scratch table lives in `scope`); a
    /// missing `scope` has none.
    public func canonicalize(_ table: NftTable, as ref: NftTableRef, in scope: NetnsScope) async throws(NftTransactionError) -> NftTable {
        let links = state.withLock { s in try? s.withNetns(scope) { ns throws(KernelError) in ns.linkNames } }
        return try SimNftables.canonicalize(table, as: ref, links: links ?? .none)
    }

    public func nftEvents(in scope: NetnsScope) async throws(KernelError) -> AsyncThrowingStream<NftEvent, any Error> {
        try state.withLock { s throws(KernelError) in
            let subscriber = SimSubscriber<NftEvent>(capacity: s.eventCapacity)
            try s.withNetns(scope) { ns throws(KernelError) in ns.nftables.subscribers.append(subscriber) }
            s.history.record(.backend, scope, .note("nft monitor"), .ok)
            return subscriber.stream()
        }
    }

    func nftCommit(_ commands: [NftCommand], expecting generation: UInt32?, port: UInt32, in scope: NetnsScope, foreign: Bool = false) throws(NftTransactionError) -> UInt32 {
        try state.withLock { s throws(NftTransactionError) in
            let what = "nft commit \(commands.count) commands" + (generation.map { " at generation \($0)" } ?? "")
            do throws(NftTransactionError) {
                if !foreign, let error = s.nftFault(.commit, in: scope) { throw NftTransactionError(error: error) }
                guard s.namespaces[scope] != nil else {
                    throw NftTransactionError(error: KernelError(.noSuchFileOrDirectory, "no \(scope)"))
                }
                let links = s.namespaces[scope]!.linkNames
                try s.namespaces[scope]!.nftables.commit(commands, expecting: generation, port: port, links: links)
                s.history.record(foreign ? .foreign : .backend, scope, .note(what), .ok)
                return s.namespaces[scope]!.nftables.generation
            } catch {
                s.history.record(foreign ? .foreign : .backend, scope, .note(what), .failed(error.error))
                throw error
            }
        }
    }

    // MARK: inspection and other processes

    /// The namespace's nf_tables generation id (no faults).
    public func nftGeneration(in scope: NetnsScope = .current) -> UInt32? {
        state.withLock { $0.namespaces[scope]?.nftables.generation }
    }

    /// A table as the kernel holds it (no faults), nil when missing.
    public func nftTable(_ table: NftTableRef, in scope: NetnsScope = .current) -> NftObservedTable? {
        // In place: a copy of the namespace would retain all of it.
        state.withLock { s in try? s.withNetns(scope) { ns throws(KernelError) in ns.nftables.listing(table, links: ns.linkNames) } }
    }

    /// A number naming what `scope`'s nf_tables tables hold now: it changes
    /// with any table, chain, rule, set or element (not with a commit that
    /// changes nothing) and is never reused, in this kernel or another, for
    /// other contents. A reader that kept what it made of ``nftTable(_:in:)``
    /// can tell it is still current.
    package func nftStamp(of scope: NetnsScope) throws(KernelError) -> UInt64 {
        try state.withLock { s throws(KernelError) in try s.withNetns(scope) { ns throws(KernelError) in ns.nftables.tablesStamp() } }
    }

    /// Every table of a namespace, in creation order.
    public func nftTables(in scope: NetnsScope = .current) -> [NftTableRef] {
        state.withLock { $0.namespaces[scope]?.nftables.tables.map(\.ref) ?? [] }
    }

    /// Opens another nf_tables socket, as another process (or a second
    /// agent) would: its owner tables are its own, and go when it closes.
    public func nftSocket() -> SimNftSocket {
        let port = state.withLock { s in
            defer { s.nextNftPort += 1 }
            return s.nextNftPort
        }
        return SimNftSocket(kernel: self, port: port)
    }

    /// Closes socket `port`: its owner tables are removed (persistent ones
    /// orphaned), in every namespace.
    /// True when a table went or was orphaned.
    @discardableResult
    func closeNftSocket(_ port: UInt32) -> Bool {
        state.withLock { s in
            var changed = false
            for scope in s.namespaceOrder where s.namespaces[scope]!.nftables.close(port: port) {
                s.history.record(.admin, scope, .note("nft socket \(port) closed"), .ok)
                changed = true
            }
            return changed
        }
    }

    /// Closes the kernel's own socket (port 1), as the agent process exiting
    /// would: its owner tables go (persistent ones are orphaned). True when
    /// a table went or was orphaned. The port stays usable, as a new process's
    /// socket would be.
    @discardableResult
    public func closeDefaultNftSocket() -> Bool { closeNftSocket(Self.defaultNftPort) }

    // MARK: faults

    /// The next `count` commits in `scope` race a concurrent writer that
    /// commits first (bumping the generation, and running `commands` when
    /// given, as a foreign socket): the racing commit gets ERESTART.
    public func raceNextNftCommits(_ count: Int = 1, in scope: NetnsScope = .current, with commands: [NftCommand] = []) {
        state.withLock { s in s.nftFaults.races.append(contentsOf: Array(repeating: (scope, commands), count: count)) }
    }

    /// The next `count` nf_tables commits (or observations) fail with `errno`.
    public func failNextNft(_ count: Int = 1, of what: SimNftOperation, with errno: Errno, message: String? = nil) {
        state.withLock { s in
            for _ in 0..<count { s.nftFaults.errors.append((what, KernelError(errno, message ?? "injected fault"))) }
        }
    }

    /// Each nf_tables commit fails with probability `fraction` with one of
    /// `errnos`, or (half of them, when `races`) races a concurrent writer;
    /// each observation fails with probability `observing` (default:
    /// `fraction`) with one of `errnos`; until ``clearNftFaults()``.
    public func failNftFraction(
        _ fraction: Double, errnos: [Errno] = [.noBufferSpace, .resourceBusy], races: Bool = true, observing: Double? = nil
    ) {
        state.withLock { s in
            s.nftFaults.fraction = fraction
            s.nftFaults.observeFraction = observing ?? fraction
            s.nftFaults.fractionErrnos = errnos.isEmpty ? [.ioError] : errnos
            s.nftFaults.fractionRaces = races
        }
    }

    /// Disarms every nf_tables fault; the fired counts stay.
    public func clearNftFaults() {
        state.withLock { s in
            let fired = s.nftFaults.fired
            s.nftFaults = SimNftFaults()
            s.nftFaults.fired = fired
        }
    }

    /// Every nf_tables monitor of `scope` loses events now (ENOBUFS).
    public func overflowNftMonitors(in scope: NetnsScope = .current) {
        state.withLock { s in
            guard let subscribers = s.namespaces[scope]?.nftables.subscribers, !subscribers.isEmpty else { return }
            for subscriber in subscribers { subscriber.forceOverflow() }
            s.nftFaults.fired[.overflow, default: 0] += 1
        }
    }

    /// nf_tables faults that fired, by kind.
    public var nftFaultsFired: [SimNftFault: Int] { state.withLock { $0.nftFaults.fired } }
}

/// Another process's nf_tables socket on a ``SimKernel``: the same backend,
/// a different owner. ``close()`` is what the kernel sees when the process dies.
public final class SimNftSocket: NftablesBackend {
    /// The kernel it talks to.
    public let kernel: SimKernel
    /// Its netlink port id (the owner of the tables it creates with the owner flag).
    public let port: UInt32

    init(kernel: SimKernel, port: UInt32) {
        self.kernel = kernel
        self.port = port
    }

    public func observeTable(_ table: NftTableRef, in scope: NetnsScope) async throws(KernelError) -> NftObservation {
        try await kernel.observeTable(table, in: scope)
    }

    public func commit(_ commands: [NftCommand], expecting generation: UInt32, in scope: NetnsScope) async throws(NftTransactionError) -> UInt32 {
        try kernel.nftCommit(commands, expecting: generation, port: port, in: scope)
    }

    /// Commits without a generation check, as `nft -f` does.
    @discardableResult
    public func commit(_ commands: [NftCommand], in scope: NetnsScope = .current) throws(NftTransactionError) -> UInt32 {
        try kernel.nftCommit(commands, expecting: nil, port: port, in: scope, foreign: true)
    }

    public func canonicalize(_ table: NftTable, as ref: NftTableRef, in scope: NetnsScope) async throws(NftTransactionError) -> NftTable {
        try await kernel.canonicalize(table, as: ref, in: scope)
    }

    public func nftEvents(in scope: NetnsScope) async throws(KernelError) -> AsyncThrowingStream<NftEvent, any Error> {
        try await kernel.nftEvents(in: scope)
    }

    /// The process exits: the kernel closes the socket.
    public func close() { kernel.closeNftSocket(port) }
}

/// What an nf_tables fault can hit.
public enum SimNftOperation: String, Sendable, Hashable, Codable, CaseIterable {
    case observe, commit
}

/// The kinds of nf_tables fault the simulator injects.
public enum SimNftFault: String, Sendable, Hashable, Codable, CaseIterable {
    /// An injected errno.
    case errno
    /// A concurrent writer committed between observation and commit.
    case generationRace
    /// Monitors lost events.
    case overflow
}

/// The armed nf_tables faults.
struct SimNftFaults: Sendable {
    var races: [(scope: NetnsScope, commands: [NftCommand])] = []
    var errors: [(SimNftOperation, KernelError)] = []
    var fraction: Double = 0
    var observeFraction: Double = 0
    var fractionErrnos: [Errno] = []
    var fractionRaces = false
    var fired: [SimNftFault: Int] = [:]
}

extension SimState {
    /// Fires an armed nf_tables fault for `op`: a racing writer commits
    /// first (the caller's generation is then stale), or an errno.
    mutating func nftFault(_ op: SimNftOperation, in scope: NetnsScope) -> KernelError? {
        if op == .commit, let i = nftFaults.races.firstIndex(where: { $0.scope == scope }), namespaces[scope] != nil {
            let race = nftFaults.races.remove(at: i)
            raceNftCommit(race.commands, in: scope)
            return nil
        }
        if let i = nftFaults.errors.firstIndex(where: { $0.0 == op }) {
            let error = nftFaults.errors.remove(at: i).1
            nftFaults.fired[.errno, default: 0] += 1
            history.record(.fault, scope, .note("nft errno \(op.rawValue) \(error.errno.symbolicName)"), .ok)
            return error
        }
        let fraction = op == .observe ? nftFaults.observeFraction : nftFaults.fraction
        guard fraction > 0, rng.chance(fraction) else { return nil }
        if op == .commit, nftFaults.fractionRaces, rng.chance(0.5), namespaces[scope] != nil {
            raceNftCommit([], in: scope)
            return nil
        }
        let errno = rng.pick(nftFaults.fractionErrnos)
        nftFaults.fired[.errno, default: 0] += 1
        history.record(.fault, scope, .note("nft errno \(op.rawValue) \(errno.symbolicName)"), .ok)
        return KernelError(errno, "injected fault")
    }

    private mutating func raceNftCommit(_ commands: [NftCommand], in scope: NetnsScope) {
        // The racing writer's own batch may fail; the generation moves either way
        // only when it commits, so an empty batch still commits (as nft does).
        let links = namespaces[scope]!.linkNames
        if (try? namespaces[scope]!.nftables.commit(commands, expecting: nil, port: 0, links: links)) == nil {
            try? namespaces[scope]!.nftables.commit([], expecting: nil, port: 0, links: links)
        }
        nftFaults.fired[.generationRace, default: 0] += 1
        history.record(.fault, scope, .note("nft generationRace"), .ok)
    }
}
