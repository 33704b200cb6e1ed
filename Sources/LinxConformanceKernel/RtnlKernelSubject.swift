import LinxConformance
import LinxKernelSim
import LinxLinux
import LinxReconcile

/// The built-in subject for ``RtnlSource`` on the real kernel, root only:
/// each case in a throwaway namespace with a veth pair `eth0`/`eth1`, the
/// same desired states and foreign state as ``RtnlSimSubject``. The scope is
/// read through raw backend dumps, never through the Source. No fault
/// injection; the mutation journal counts the requests the Source sends
/// (``WriteJournal``); the monitor cannot be made to lose events on demand
/// (so no `overflowTrigger`).
package struct RtnlKernelSubject: ConformanceSubject {
    public typealias Source = RtnlSource
    public typealias Sandbox = KernelSandbox
    public typealias EntryKey = RtnlEntry
    public typealias EntryValue = RtnlValue

    public init() {}

    public var name: String { "rtnl/kernel" }
    public var unavailableReason: String? { KernelSandbox.unavailableReason(name) }
    public var capabilities: Set<SubjectCapability> { [.monitorTriggers, .mutationJournal] }
    public var emptyDesired: RtnlDesiredState { .empty }
    public var emptyLastApplied: RtnlLastApplied { .empty }

    public func makeSandbox(seed: UInt64) async throws -> KernelSandbox { try KernelSandbox.make(subject: name) }
    public func tearDown(_ sandbox: KernelSandbox) async { sandbox.namespace.remove() }

    public func source(for sandbox: KernelSandbox) -> RtnlSource { RtnlSource(backend: JournaledRtnlBackend(base: sandbox.kernel, journal: sandbox.journal))
    }
    public func scope(of sandbox: KernelSandbox) -> NetnsScope { sandbox.scope }
    public func options(for sandbox: KernelSandbox) -> RtnlOptions { .default }

    public func validDesired(in sandbox: KernelSandbox, using random: inout SimRandom) -> RtnlDesiredState {
        RtnlStateModel.validDesired(links: RtnlSimSubject.links, using: &random)
    }

    public func invalidDesired(in sandbox: KernelSandbox) -> [InvalidDesired<RtnlDesiredState>] {
        RtnlStateModel.invalidDesired(link: "eth0")
    }

    public func expectedEntries(for desired: RtnlDesiredState, in sandbox: KernelSandbox) -> [RtnlEntry: RtnlValue] {
        RtnlStateModel.expectedEntries(for: desired, routeProtocol: RouteProtocol.linx)
    }

    public func effect(of op: ReconcileOp<RtnlObject>, in sandbox: KernelSandbox) -> OpEffect<RtnlEntry, RtnlValue> {
        RtnlStateModel.effect(of: op) { _ in nil }
    }

    public func sideEffects(
        of op: ReconcileOp<RtnlObject>, before: ScopeSnapshot<RtnlEntry, RtnlValue>, in sandbox: KernelSandbox
    ) -> Set<RtnlEntry> {
        RtnlStateModel.sideEffects(of: op, before: before) { _ in nil }
    }

    public func release(from desired: RtnlDesiredState, in sandbox: KernelSandbox, using random: inout SimRandom)
        -> Release<RtnlDesiredState, RtnlEntry, RtnlValue>?
    {
        RtnlStateModel.release(from: desired, using: &random)
    }

    public func ownedEntries(
        in lastApplied: RtnlLastApplied, scope: ScopeSnapshot<RtnlEntry, RtnlValue>, in sandbox: KernelSandbox
    ) -> Set<RtnlEntry>? {
        RtnlStateModel.ownedEntries(in: lastApplied, scope: scope, options: options(for: sandbox))
    }

    public func mutationStamp(of sandbox: KernelSandbox) async throws -> MutationStamp? { sandbox.journal.stamp }

    public func snapshot(of sandbox: KernelSandbox) async throws -> ScopeSnapshot<RtnlEntry, RtnlValue> {
        ScopeSnapshot(try await writer(sandbox).entries())
    }

    public func makeForeignState(in sandbox: KernelSandbox, avoiding desired: RtnlDesiredState, using random: inout SimRandom)
        async throws -> [RtnlEntry: RtnlValue]
    {
        try await writer(sandbox).makeForeignState(links: RtnlSimSubject.links, using: &random)
    }

    public func drift(in sandbox: KernelSandbox, desired: RtnlDesiredState, using random: inout SimRandom)
        async throws -> Drift<RtnlEntry, RtnlValue>
    {
        try await writer(sandbox).drift(desired: desired, links: RtnlSimSubject.links, using: &random)
    }

    public func triggerChange(in sandbox: KernelSandbox) async throws {
        try sandbox.namespace.ip("addr", "add", "198.51.100.7/24", "dev", "eth1")
    }

    /// Raw backend dumps and requests: independent of the Source's reconciler.
    func writer(_ sandbox: KernelSandbox) -> RtnlForeignWriter {
        let kernel = sandbox.kernel
        let scope = sandbox.scope
        return RtnlForeignWriter(
            dump: {
                let links = try await kernel.links(in: scope)
                let addresses = try await kernel.addresses(in: scope)
                let routes = try await kernel.routes(in: scope, matching: .all)
                return (links, addresses, routes)
            },
            write: { request in
                if case .success = await kernel.execute([request], in: scope, stopOnError: true).first { return true }
                return false
            })
    }
}
