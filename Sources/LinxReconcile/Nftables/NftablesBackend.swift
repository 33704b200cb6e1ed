import SystemPackage

/// The nf_tables half of a kernel: one table observed at a time, changes
/// committed as one transaction that carries the generation it was planned
/// against (a compare-and-swap over the whole namespace's ruleset).
///
/// The generation id is namespace-wide: every commit by anyone bumps it. A
/// commit whose expected generation is stale is refused with ERESTART and
/// changes nothing; any other refusal also changes nothing and names the
/// command that failed.
public protocol NftablesBackend: Sendable {
    /// The namespace's current generation and the table as it is at that
    /// generation (nil when the table does not exist).
    func observeTable(_ table: NftTableRef, in scope: NetnsScope) async throws(KernelError) -> NftObservation

    /// Commits `commands` as one transaction, refused with ERESTART (and
    /// nothing applied) when the namespace's generation is no longer
    /// `generation`. Returns the generation after the commit.
    func commit(_ commands: [NftCommand], expecting generation: UInt32, in scope: NetnsScope)
        async throws(NftTransactionError) -> UInt32

    /// `table` with every rule and element rewritten in the form the kernel
    /// lists it, refusing what the kernel would refuse; touches nothing in
    /// `scope` (it may check the table in a scratch place). Errors name
    /// the offending chain or set in ``NftTransactionError/object``.
    func canonicalize(_ table: NftTable, as ref: NftTableRef, in scope: NetnsScope)
        async throws(NftTransactionError) -> NftTable

    /// ``canonicalize(_:as:in:)``, and the generations from which its own
    /// commits moved `scope`'s generation, each by exactly one with no
    /// other writer's commit in between (a scratch table built and deleted
    /// in `scope` moves the namespace-wide generation twice). A reconciler
    /// then does not take them for another writer's: a plan made before
    /// them is still exact after them. The default: ``canonicalize(_:as:in:)``
    /// and no commits (right for a backend that checks elsewhere).
    func canonicalizeReportingCommits(_ table: NftTable, as ref: NftTableRef, in scope: NetnsScope)
        async throws(NftTransactionError) -> (table: NftTable, ownCommits: [UInt32])

    /// Has the kernel check `commands` as one transaction without
    /// committing it (libnftables' dry run: nft parses and evaluates the
    /// batch, the kernel carries out every command and then aborts the
    /// transaction): the refusal the commit would meet, naming the command
    /// in ``NftTransactionError/index``, or nothing. Changes nothing and
    /// moves no generation. Returns false when the backend cannot do this
    /// (the default), in which case nothing was checked.
    func checkTransaction(_ commands: [NftCommand], in scope: NetnsScope) async throws(NftTransactionError) -> Bool

    /// nf_tables change events of the namespace (NFNLGRP_NFTABLES). Lost
    /// events (ENOBUFS) are an ``NftEvent/overflow``; the stream finishes
    /// with an error when the monitor dies.
    func nftEvents(in scope: NetnsScope) async throws(KernelError) -> AsyncThrowingStream<NftEvent, any Error>
}

extension NftablesBackend {
    /// ``canonicalize(_:as:in:)``, reporting no commits of its own.
    public func canonicalizeReportingCommits(_ table: NftTable, as ref: NftTableRef, in scope: NetnsScope)
        async throws(NftTransactionError) -> (table: NftTable, ownCommits: [UInt32])
    {
        (try await canonicalize(table, as: ref, in: scope), [])
    }

    /// No dry run: ``NftablesReconciler`` checks a plan by canonicalising
    /// the desired table instead.
    public func checkTransaction(_ commands: [NftCommand], in scope: NetnsScope) async throws(NftTransactionError) -> Bool {
        false
    }
}

/// One observation: the namespace's generation and the table at it.
public struct NftObservation: Sendable, Hashable {
    /// The namespace-wide generation id the observation was made at.
    public var generation: UInt32
    /// The table, nil when it does not exist.
    public var table: NftObservedTable?

    /// An observation of `table` at `generation`.
    public init(generation: UInt32, table: NftObservedTable?) {
        self.generation = generation
        self.table = table
    }
}

/// A table as the kernel holds it, with the kernel's handles.
public struct NftObservedTable: Sendable, Hashable {
    /// Family and name.
    public var ref: NftTableRef
    /// Its flags.
    public var flags: NftTableFlags
    /// Its comment (user data), where Linx keeps its ownership marker.
    public var comment: String?
    /// Chains in the kernel's order.
    public var chains: [NftObservedChain]
    /// Named sets and maps in the kernel's order, with their elements.
    public var sets: [NftSet]

    /// A table as observed.
    public init(ref: NftTableRef, flags: NftTableFlags = [], comment: String? = nil, chains: [NftObservedChain] = [], sets: [NftSet] = []) {
        self.ref = ref
        self.flags = flags
        self.comment = comment
        self.chains = chains
        self.sets = sets
    }

    /// The content in desired-state shape (handles dropped).
    public var content: NftTable {
        NftTable(chains: chains.map { NftChain($0.name, base: $0.base, rules: $0.rules.map(\.text)) }, sets: sets)
    }
}

/// A chain as observed: its rules carry their handles.
public struct NftObservedChain: Sendable, Hashable {
    /// The chain's name.
    public var name: String
    /// The hook attachment; nil for a regular chain.
    public var base: NftBaseChain?
    /// The rules in order.
    public var rules: [NftObservedRule]

    /// A chain as observed.
    public init(name: String, base: NftBaseChain?, rules: [NftObservedRule]) {
        self.name = name
        self.base = base
        self.rules = rules
    }
}

/// A rule as observed: the kernel's handle and the rule as it is listed
/// (stateless: counters print without their values).
public struct NftObservedRule: Sendable, Hashable {
    /// The kernel's handle (unique within the table).
    public var handle: UInt64
    /// The rule in nft syntax.
    public var text: String

    /// A rule as observed.
    public init(handle: UInt64, text: String) {
        self.handle = handle
        self.text = text
    }
}

/// A refused nf_tables transaction. Nothing of it was applied.
public struct NftTransactionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Index into the committed commands of the one the kernel refused;
    /// nil when the whole batch was refused (ERESTART).
    public var index: Int?
    /// What the refused command acted on, as nft names it (`chain inet t input`).
    public var object: String?
    /// The kernel's answer.
    public var error: KernelError

    /// A refusal of command `index` (acting on `object`) with `error`.
    public init(index: Int? = nil, object: String? = nil, error: KernelError) {
        self.index = index
        self.object = object
        self.error = error
    }

    /// True when the generation was stale: another writer committed first.
    public var isStaleGeneration: Bool { error.errno == .restart }

    public var description: String {
        (object.map { "\($0): " } ?? "") + error.description
    }
}

/// A change event from the nf_tables monitor.
public enum NftEvent: Sendable, Hashable {
    /// Something in the namespace's ruleset changed (a commit by anyone).
    case changed
    /// Events were lost: only a full re-observation is correct.
    case overflow
}

extension Errno {
    /// `ERESTART` (85): nf_tables' answer to a batch with a stale generation id.
    /// swift-system has no name for it (it is kernel-internal elsewhere).
    public static var restart: Errno { Errno(rawValue: 85) }
}
