import LinxConformance
import LinxKernelSim
import LinxReconcile

/// Silently caps net.core.somaxconn at 4096 and reports the pass as
/// converged: honest about every op it ran, wrong about the state. Only a
/// desired value above the cap shows it, so the failure comes at whichever
/// pass first wants one, which a trace must name.
struct CappingSysctlSource: ReconcileSource {
    static let key = "net.core.somaxconn"
    let honest: SysctlSource

    func reconcile(
        scope: NetnsScope, desired: SysctlDesiredState, lastApplied: SysctlLastApplied, options: SysctlOptions
    ) async throws(ReconcileError) -> ReconcileReport<SysctlSetting, SysctlLastApplied> {
        var capped = desired.values
        if case .integer(let value)? = capped[Self.key], value > 4096 { capped[Self.key] = .integer(4096) }
        return try await honest.reconcile(
            scope: scope, desired: SysctlDesiredState(capped), lastApplied: lastApplied, options: options)
    }

    func observe(scope: NetnsScope, options: SysctlOptions) async throws(ReconcileError) -> [SysctlKey: String] {
        try await honest.observe(scope: scope, options: options)
    }
}

/// The sysctl simulator subject with the capping Source in place of the real one.
struct CappingSysctlSubject: SimKernelFuzzableSubject {
    typealias Source = CappingSysctlSource
    typealias Sandbox = SysctlSimSubject.Sandbox
    typealias EntryKey = String
    typealias EntryValue = String

    let base = SysctlSimSubject()

    var name: String { "capping-sysctl/sim" }
    var capabilities: Set<SubjectCapability> { base.capabilities }
    var emptyDesired: SysctlDesiredState { .empty }
    var emptyLastApplied: SysctlLastApplied { .empty }
    var fuzzKinds: Set<SimFaultKind> { base.fuzzKinds }

    func makeSandbox(seed: UInt64) async throws -> Sandbox { try await base.makeSandbox(seed: seed) }
    func tearDown(_ sandbox: Sandbox) async {}
    func source(for sandbox: Sandbox) -> CappingSysctlSource { CappingSysctlSource(honest: base.source(for: sandbox)) }
    func scope(of sandbox: Sandbox) -> NetnsScope { base.scope(of: sandbox) }
    func options(for sandbox: Sandbox) -> SysctlOptions { base.options(for: sandbox) }
    func validDesired(in sandbox: Sandbox, using random: inout SimRandom) -> SysctlDesiredState {
        base.validDesired(in: sandbox, using: &random)
    }
    func invalidDesired(in sandbox: Sandbox) -> [InvalidDesired<SysctlDesiredState>] { base.invalidDesired(in: sandbox) }
    func expectedEntries(for desired: SysctlDesiredState, in sandbox: Sandbox) -> [String: String] {
        base.expectedEntries(for: desired, in: sandbox)
    }
    func effect(of op: ReconcileOp<SysctlSetting>, in sandbox: Sandbox) -> OpEffect<String, String> {
        base.effect(of: op, in: sandbox)
    }
    func release(from desired: SysctlDesiredState, in sandbox: Sandbox, using random: inout SimRandom)
        -> Release<SysctlDesiredState, String, String>?
    {
        base.release(from: desired, in: sandbox, using: &random)
    }
    func snapshot(of sandbox: Sandbox) async throws -> ScopeSnapshot<String, String> { try await base.snapshot(of: sandbox) }
    func makeForeignState(in sandbox: Sandbox, avoiding desired: SysctlDesiredState, using random: inout SimRandom)
        async throws -> [String: String]
    {
        try await base.makeForeignState(in: sandbox, avoiding: desired, using: &random)
    }
    func drift(in sandbox: Sandbox, desired: SysctlDesiredState, using random: inout SimRandom)
        async throws -> Drift<String, String>
    {
        try await base.drift(in: sandbox, desired: desired, using: &random)
    }
    func injectFaults(in sandbox: Sandbox, using random: inout SimRandom) async throws {
        try await base.injectFaults(in: sandbox, using: &random)
    }
    func stopFaults(in sandbox: Sandbox) async throws { try await base.stopFaults(in: sandbox) }
    func kernel(of sandbox: Sandbox) -> SimKernel { sandbox.kernel }
    func repair(_ sandbox: Sandbox) throws { try base.repair(sandbox) }
    func describe(_ lastApplied: SysctlLastApplied) -> [String] { base.describe(lastApplied) }
}
