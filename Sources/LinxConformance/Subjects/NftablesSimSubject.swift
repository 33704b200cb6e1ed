import LinxKernelSim
import LinxReconcile

/// The built-in subject for ``/LinxReconcile/NftablesSource`` on the simulated kernel: the
/// table `inet linx` in a fresh namespace per case.
///
/// Desired states draw chains, rules (written as users type them, compared
/// as nft lists them), sets and elements from `NftablesStateModel`.
/// Foreign state is other tables: `inet other`, our name in another family
/// (`ip linx`), and our very name with our marker in the host namespace,
/// which a pass that leaks out of its namespace would take for its own.
/// Drift is a foreign socket writing *inside* our table (a rule or element
/// added or deleted, a policy flipped, a chain or the whole table deleted):
/// everything in our table is ours, so drift is healed, never kept.
///
/// The all-or-nothing strategy shows in the audit: a refused transaction
/// reports one failed op and the rest pending, and the scope must be
/// unchanged. The journal is the namespace's nf_tables generation, which
/// every commit bumps, even one that changes nothing.
public struct NftablesSimSubject: ConformanceSubject {
    public typealias Source = NftablesSource
    public typealias Sandbox = SimSandbox<NftScope>
    public typealias EntryKey = String
    public typealias EntryValue = String

    static let namespace = NetnsScope.named("linx-conformance")

    /// False: every snapshot is read afresh (the differential tests'
    /// reference for the kept snapshots).
    package var keepsSnapshots = true

    public init() {}

    public var name: String { "nftables/sim" }
    public var capabilities: Set<SubjectCapability> { [.faultInjection, .mutationJournal, .monitorTriggers, .overflowTrigger] }
    public var emptyDesired: NftTable? { nil }
    public var emptyLastApplied: NftLastApplied { .empty }

    public func makeSandbox(seed: UInt64) async throws -> Sandbox {
        let kernel = SimKernel(seed: seed)
        try kernel.createNamespace(Self.namespace)
        return SimSandbox(kernel: kernel, scope: NftScope(Self.namespace, table: NftablesStateModel.table))
    }

    public func tearDown(_ sandbox: Sandbox) async {}

    public func source(for sandbox: Sandbox) -> NftablesSource { NftablesSource(backend: sandbox.kernel) }
    public func scope(of sandbox: Sandbox) -> NftScope { sandbox.scope }
    public func options(for sandbox: Sandbox) -> NftablesOptions { .default }

    public func validDesired(in sandbox: Sandbox, using random: inout SimRandom) -> NftTable? {
        NftablesStateModel.validDesired(using: &random)
    }

    public func invalidDesired(in sandbox: Sandbox) -> [InvalidDesired<NftTable?>] {
        NftablesStateModel.invalidDesired()
    }

    public func expectedEntries(for desired: NftTable?, in sandbox: Sandbox) -> [String: String] {
        NftablesStateModel.expectedEntries(for: desired)
    }

    public func effect(of op: ReconcileOp<NftObject>, in sandbox: Sandbox) -> OpEffect<String, String> {
        NftablesStateModel.effect(of: op)
    }

    public func release(from desired: NftTable?, in sandbox: Sandbox, using random: inout SimRandom)
        -> Release<NftTable?, String, String>?
    {
        NftablesStateModel.release(from: desired, using: &random)
    }

    public func mustBeAbsent(_ key: String, value: String, when desired: NftTable?, in sandbox: Sandbox) -> Bool {
        NftablesStateModel.mustBeAbsent(key, when: desired)
    }

    /// `lastApplied` records one thing, that the table is ours, and the
    /// table's marker records it in the kernel; everything in a table of
    /// ours is ours. So it owns the table's entries as the kernel holds
    /// them now (nothing when the table is not ours).
    public func ownedEntries(in lastApplied: NftLastApplied, in sandbox: Sandbox) -> Set<String>? {
        ownedEntries(in: lastApplied, scope: Self.readSnapshot(of: sandbox), in: sandbox)
    }

    /// The table's entries in `scope` when the table is ours (see
    /// ``ownedEntries(in:in:)``).
    public func ownedEntries(
        in lastApplied: NftLastApplied, scope: ScopeSnapshot<String, String>, in sandbox: Sandbox
    ) -> Set<String>? {
        NftablesStateModel.ownedEntries(in: lastApplied, scope: scope)
    }

    public func snapshot(of sandbox: Sandbox) async throws -> ScopeSnapshot<String, String> {
        // Both namespaces' tables unchanged since the last read (their
        // stamps say so; most passes commit nothing): the very same
        // snapshot, which the audit then knows it has checked.
        guard keepsSnapshots, let stamps = try? [sandbox.kernel.nftStamp(of: sandbox.scope.netns), sandbox.kernel.nftStamp(of: .current)]
        else { return Self.readSnapshot(of: sandbox) }
        if let kept = sandbox.memo.snapshot(at: stamps, as: ScopeSnapshot<String, String>.self) { return kept }
        let snapshot = Self.readSnapshot(of: sandbox)
        sandbox.memo.store(snapshot, at: stamps)
        return snapshot
    }

    /// The snapshot, read afresh.
    static func readSnapshot(of sandbox: Sandbox) -> ScopeSnapshot<String, String> {
        let kernel = sandbox.kernel, netns = sandbox.scope.netns
        var entries: [String: String] = [:]
        entries.reserveCapacity(64)
        NftablesStateModel.add(kernel.nftTable(sandbox.scope.table, in: netns), prefix: NftablesStateModel.prefix, to: &entries)
        // Every table has its own prefix, so no key is written twice.
        for foreign in Self.foreignTables {
            NftablesStateModel.add(kernel.nftTable(foreign.ref, in: foreign.scope ?? netns), prefix: foreign.prefix, to: &entries)
        }
        return ScopeSnapshot(entries)
    }

    static let foreignTables = NftablesStateModel.foreignTables + [NftablesStateModel.hostTable]

    public func makeForeignState(in sandbox: Sandbox, avoiding desired: NftTable?, using random: inout SimRandom)
        async throws -> [String: String]
    {
        let socket = sandbox.kernel.nftSocket()
        var made: [String: String] = [:]
        for (foreign, commands) in NftablesStateModel.foreignWrites(tables: Self.foreignTables, using: &random) {
            let scope = foreign.scope ?? sandbox.scope.netns
            try socket.commit(commands, in: scope)
            // Newer entries win, as a merge of the table's entries would have it.
            NftablesStateModel.add(sandbox.kernel.nftTable(foreign.ref, in: scope), prefix: foreign.prefix, to: &made)
        }
        return made
    }

    public func drift(in sandbox: Sandbox, desired: NftTable?, using random: inout SimRandom) async throws -> Drift<String, String> {
        let socket = sandbox.kernel.nftSocket()
        return try await NftablesStateModel.drift(
            using: &random, table: { sandbox.kernel.nftTable(sandbox.scope.table, in: sandbox.scope.netns) },
            commit: { try socket.commit($0, in: sandbox.scope.netns) },
            foreign: { try await makeForeignState(in: sandbox, avoiding: desired, using: &$0) })
    }

    /// The namespace's nf_tables generation: every commit bumps it.
    public func mutationStamp(of sandbox: Sandbox) async throws -> MutationStamp? {
        sandbox.kernel.nftGeneration(in: sandbox.scope.netns).map { MutationStamp("generation \($0)") }
    }

    /// Six commits in ten fail, half with an errno, half because a
    /// concurrent writer's empty commit got in just before ours (ERESTART,
    /// which the pass retries); one observation in ten fails.
    public func injectFaults(in sandbox: Sandbox, using random: inout SimRandom) async throws {
        sandbox.kernel.failNftFraction(0.6, errnos: [random.pick([.noBufferSpace, .resourceBusy])], races: true, observing: 0.1)
    }

    public func stopFaults(in sandbox: Sandbox) async throws {
        sandbox.kernel.clearNftFaults()
    }

    /// Another table in the namespace changes: every commit is an event.
    public func triggerChange(in sandbox: Sandbox) async throws {
        let other = NftablesStateModel.foreignTables[0].ref
        try sandbox.kernel.nftSocket().commit([.addTable(other, flags: [], comment: nil)], in: sandbox.scope.netns)
    }

    public func triggerOverflow(in sandbox: Sandbox) async throws {
        sandbox.kernel.overflowNftMonitors(in: sandbox.scope.netns)
    }
}
