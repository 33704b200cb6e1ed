import LinxConformance
import LinxKernelSim
import LinxLinux
import LinxReconcile
import LinxTestSupport

/// The built-in subject for ``NftablesSource`` on the real kernel, root
/// and nft only: each case in a throwaway network namespace (so the host's
/// firewall is never read or written), the table `inet linx`, the same
/// desired states, foreign tables and drift as ``NftablesSimSubject``.
///
/// Foreign writers and drift are the `nft` command run in the namespace:
/// another process, another netlink socket. Desired rules are written as
/// users type them and expected as nft lists them, so every run checks the
/// pools' listed forms against the kernel. No fault injection, and no
/// mutation journal: validating a new desired state builds a scratch table
/// in the namespace, which moves its generation.
package struct NftablesKernelSubject: ConformanceSubject {
    public typealias Source = NftablesSource
    public typealias Sandbox = KernelSandbox
    public typealias EntryKey = String
    public typealias EntryValue = String

    public init() {}

    public var name: String { "nftables/kernel" }
    public var capabilities: Set<SubjectCapability> { [.monitorTriggers] }
    public var unavailableReason: String? {
        KernelSandbox.unavailableReason(name) ?? (Command.run(["nft", "--version"]).status == 0 ? nil : "\(name) needs the nft command")
    }
    public var emptyDesired: NftTable? { nil }
    public var emptyLastApplied: NftLastApplied { .empty }

    public func makeSandbox(seed: UInt64) async throws -> KernelSandbox {
        if let reason = unavailableReason { throw ConformanceSkip(reason) }
        return try KernelSandbox.make(subject: name)
    }

    public func tearDown(_ sandbox: KernelSandbox) async { sandbox.namespace.remove() }

    public func source(for sandbox: KernelSandbox) -> NftablesSource { NftablesSource(backend: sandbox.kernel) }
    public func scope(of sandbox: KernelSandbox) -> NftScope { NftScope(sandbox.scope, table: NftablesStateModel.table) }
    public func options(for sandbox: KernelSandbox) -> NftablesOptions { .default }

    public func validDesired(in sandbox: KernelSandbox, using random: inout SimRandom) -> NftTable? {
        NftablesStateModel.validDesired(using: &random)
    }

    public func invalidDesired(in sandbox: KernelSandbox) -> [InvalidDesired<NftTable?>] {
        NftablesStateModel.invalidDesired()
    }

    public func expectedEntries(for desired: NftTable?, in sandbox: KernelSandbox) -> [String: String] {
        NftablesStateModel.expectedEntries(for: desired)
    }

    public func effect(of op: ReconcileOp<NftObject>, in sandbox: KernelSandbox) -> OpEffect<String, String> {
        NftablesStateModel.effect(of: op)
    }

    public func release(from desired: NftTable?, in sandbox: KernelSandbox, using random: inout SimRandom)
        -> Release<NftTable?, String, String>?
    {
        NftablesStateModel.release(from: desired, using: &random)
    }

    public func mustBeAbsent(_ key: String, value: String, when desired: NftTable?, in sandbox: KernelSandbox) -> Bool {
        NftablesStateModel.mustBeAbsent(key, when: desired)
    }

    /// Everything in a table of ours is ours: the table's entries in
    /// `scope` when lastApplied or the table's marker says the table is ours.
    public func ownedEntries(
        in lastApplied: NftLastApplied, scope: ScopeSnapshot<String, String>, in sandbox: KernelSandbox
    ) -> Set<String>? {
        NftablesStateModel.ownedEntries(in: lastApplied, scope: scope)
    }

    public func snapshot(of sandbox: KernelSandbox) async throws -> ScopeSnapshot<String, String> {
        var entries = NftablesStateModel.ownEntries(of: try await table(NftablesStateModel.table, in: sandbox))
        for foreign in NftablesStateModel.foreignTables {
            entries.merge(NftablesStateModel.entries(of: try await table(foreign.ref, in: sandbox), prefix: foreign.prefix)) { a, _ in a }
        }
        return ScopeSnapshot(entries)
    }

    private func table(_ ref: NftTableRef, in sandbox: KernelSandbox) async throws -> NftObservedTable? {
        try await sandbox.kernel.observeTable(ref, in: sandbox.scope).table
    }

    /// Runs `commands` as one `nft` invocation in the namespace.
    private func nft(_ commands: [NftCommand], in sandbox: KernelSandbox) throws {
        _ = try sandbox.namespace.exec("nft", commands.map(\.description).joined(separator: "; "))
    }

    public func makeForeignState(in sandbox: KernelSandbox, avoiding desired: NftTable?, using random: inout SimRandom)
        async throws -> [String: String]
    {
        var made: [String: String] = [:]
        for (foreign, commands) in NftablesStateModel.foreignWrites(tables: NftablesStateModel.foreignTables, using: &random) {
            try nft(commands, in: sandbox)
            made.merge(NftablesStateModel.entries(of: try await table(foreign.ref, in: sandbox), prefix: foreign.prefix)) { _, new in new }
        }
        return made
    }

    public func drift(in sandbox: KernelSandbox, desired: NftTable?, using random: inout SimRandom) async throws -> Drift<String, String> {
        try await NftablesStateModel.drift(
            using: &random, table: { try await table(NftablesStateModel.table, in: sandbox) },
            commit: { try nft($0, in: sandbox) },
            foreign: { try await makeForeignState(in: sandbox, avoiding: desired, using: &$0) })
    }

    /// `nft add table` of another table: a commit, so a monitor event.
    public func triggerChange(in sandbox: KernelSandbox) async throws {
        try nft([.addTable(NftablesStateModel.foreignTables[0].ref, flags: [], comment: nil)], in: sandbox)
    }
}
