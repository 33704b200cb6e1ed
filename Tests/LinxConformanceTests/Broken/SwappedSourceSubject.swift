import LinxConformance
import LinxKernelSim
import LinxReconcile

/// A simulator subject with its Source swapped for a deliberately broken
/// one built from the honest Source: everything else (sandbox, snapshots,
/// oracle, faults, drift) is the base subject's, so only the Source's flaw
/// can fail a case or a scenario.
struct SwappedSourceSubject<Base: SimKernelFuzzableSubject, Broken: ReconcileSource>: SimKernelFuzzableSubject
where
    Broken.Scope == Base.Source.Scope, Broken.Desired == Base.Source.Desired,
    Broken.LastApplied == Base.Source.LastApplied, Broken.Item == Base.Source.Item,
    Broken.Options == Base.Source.Options
{
    typealias Source = Broken
    typealias Sandbox = Base.Sandbox
    typealias EntryKey = Base.EntryKey
    typealias EntryValue = Base.EntryValue

    let base: Base
    let name: String
    let swap: @Sendable (Base.Source) -> Broken

    var capabilities: Set<SubjectCapability> { base.capabilities }
    var emptyDesired: Broken.Desired { base.emptyDesired }
    var emptyLastApplied: Broken.LastApplied { base.emptyLastApplied }
    var fuzzKinds: Set<SimFaultKind> { base.fuzzKinds }

    func makeSandbox(seed: UInt64) async throws -> Sandbox { try await base.makeSandbox(seed: seed) }
    func tearDown(_ sandbox: Sandbox) async { await base.tearDown(sandbox) }
    func source(for sandbox: Sandbox) -> Broken { swap(base.source(for: sandbox)) }
    func scope(of sandbox: Sandbox) -> Broken.Scope { base.scope(of: sandbox) }
    func options(for sandbox: Sandbox) -> Broken.Options { base.options(for: sandbox) }
    func validDesired(in sandbox: Sandbox, using random: inout SimRandom) -> Broken.Desired {
        base.validDesired(in: sandbox, using: &random)
    }
    func fuzzDesired(in sandbox: Sandbox, using random: inout SimRandom) -> Broken.Desired {
        base.fuzzDesired(in: sandbox, using: &random)
    }
    func invalidDesired(in sandbox: Sandbox) -> [InvalidDesired<Broken.Desired>] { base.invalidDesired(in: sandbox) }
    func expectedEntries(for desired: Broken.Desired, in sandbox: Sandbox) -> [EntryKey: EntryValue] {
        base.expectedEntries(for: desired, in: sandbox)
    }
    func effect(of op: ReconcileOp<Broken.Item>, in sandbox: Sandbox) -> OpEffect<EntryKey, EntryValue> {
        base.effect(of: op, in: sandbox)
    }
    func sideEffects(
        of op: ReconcileOp<Broken.Item>, before: ScopeSnapshot<EntryKey, EntryValue>, in sandbox: Sandbox
    ) -> Set<EntryKey> {
        base.sideEffects(of: op, before: before, in: sandbox)
    }
    func release(from desired: Broken.Desired, in sandbox: Sandbox, using random: inout SimRandom)
        -> Release<Broken.Desired, EntryKey, EntryValue>?
    {
        base.release(from: desired, in: sandbox, using: &random)
    }
    func snapshot(of sandbox: Sandbox) async throws -> ScopeSnapshot<EntryKey, EntryValue> {
        try await base.snapshot(of: sandbox)
    }
    func makeForeignState(in sandbox: Sandbox, avoiding desired: Broken.Desired, using random: inout SimRandom)
        async throws -> [EntryKey: EntryValue]
    {
        try await base.makeForeignState(in: sandbox, avoiding: desired, using: &random)
    }
    func drift(in sandbox: Sandbox, desired: Broken.Desired, using random: inout SimRandom)
        async throws -> Drift<EntryKey, EntryValue>
    {
        try await base.drift(in: sandbox, desired: desired, using: &random)
    }
    func ownedEntries(
        in lastApplied: Broken.LastApplied, scope: ScopeSnapshot<EntryKey, EntryValue>, in sandbox: Sandbox
    ) -> Set<EntryKey>? {
        base.ownedEntries(in: lastApplied, scope: scope, in: sandbox)
    }
    func mustBeAbsent(_ key: EntryKey, value: EntryValue, when desired: Broken.Desired, in sandbox: Sandbox) -> Bool {
        base.mustBeAbsent(key, value: value, when: desired, in: sandbox)
    }
    func mutationStamp(of sandbox: Sandbox) async throws -> MutationStamp? { try await base.mutationStamp(of: sandbox) }
    func injectFaults(in sandbox: Sandbox, using random: inout SimRandom) async throws {
        try await base.injectFaults(in: sandbox, using: &random)
    }
    func stopFaults(in sandbox: Sandbox) async throws { try await base.stopFaults(in: sandbox) }
    func kernel(of sandbox: Sandbox) -> SimKernel { base.kernel(of: sandbox) }
    func repair(_ sandbox: Sandbox) throws { try base.repair(sandbox) }
    func openMonitor(in sandbox: Sandbox) async -> MonitorProbe? { await base.openMonitor(in: sandbox) }
    func describe(_ lastApplied: Broken.LastApplied) -> [String] { base.describe(lastApplied) }
}
