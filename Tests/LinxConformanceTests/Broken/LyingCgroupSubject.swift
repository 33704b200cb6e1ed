import LinxConformance
import LinxKernelSim
import LinxReconcile

/// Reports every write the kernel refused as applied, and the pass as
/// converged: honest until a fault bites, so only fuzzing (or the fault
/// cases) can catch it.
struct LyingCgroupSource: ReconcileSource {
    let honest: CgroupSource

    func reconcile(
        scope: String, desired: CgroupDesiredState, lastApplied: CgroupLastApplied, options: CgroupOptions
    ) async throws(ReconcileError) -> ReconcileReport<CgroupSetting, CgroupLastApplied> {
        var report = try await honest.reconcile(scope: scope, desired: desired, lastApplied: lastApplied, options: options)
        report.applied += report.failed.map(\.op)
        report.failed = []
        return report
    }

    func observe(scope: String, options: CgroupOptions) async throws(ReconcileError) -> [String: String] {
        try await honest.observe(scope: scope, options: options)
    }
}

/// The cgroup simulator subject with the lying Source in place of the real one.
struct LyingCgroupSubject: SimKernelFuzzableSubject {
    typealias Source = LyingCgroupSource
    typealias Sandbox = SimSandbox<String>
    typealias EntryKey = String
    typealias EntryValue = String

    let base = CgroupSimSubject()

    var name: String { "lying-cgroup/sim" }
    var capabilities: Set<SubjectCapability> { base.capabilities }
    var emptyDesired: CgroupDesiredState { .empty }
    var emptyLastApplied: CgroupLastApplied { .empty }
    var fuzzKinds: Set<SimFaultKind> { base.fuzzKinds }

    func makeSandbox(seed: UInt64) async throws -> Sandbox { try await base.makeSandbox(seed: seed) }
    func tearDown(_ sandbox: Sandbox) async {}
    func source(for sandbox: Sandbox) -> LyingCgroupSource { LyingCgroupSource(honest: base.source(for: sandbox)) }
    func scope(of sandbox: Sandbox) -> String { base.scope(of: sandbox) }
    func options(for sandbox: Sandbox) -> CgroupOptions { base.options(for: sandbox) }
    func validDesired(in sandbox: Sandbox, using random: inout SimRandom) -> CgroupDesiredState {
        base.validDesired(in: sandbox, using: &random)
    }
    func invalidDesired(in sandbox: Sandbox) -> [InvalidDesired<CgroupDesiredState>] { base.invalidDesired(in: sandbox) }
    func expectedEntries(for desired: CgroupDesiredState, in sandbox: Sandbox) -> [String: String] {
        base.expectedEntries(for: desired, in: sandbox)
    }
    func effect(of op: ReconcileOp<CgroupSetting>, in sandbox: Sandbox) -> OpEffect<String, String> {
        base.effect(of: op, in: sandbox)
    }
    func release(from desired: CgroupDesiredState, in sandbox: Sandbox, using random: inout SimRandom)
        -> Release<CgroupDesiredState, String, String>?
    {
        base.release(from: desired, in: sandbox, using: &random)
    }
    func snapshot(of sandbox: Sandbox) async throws -> ScopeSnapshot<String, String> { try await base.snapshot(of: sandbox) }
    func makeForeignState(in sandbox: Sandbox, avoiding desired: CgroupDesiredState, using random: inout SimRandom)
        async throws -> [String: String]
    {
        try await base.makeForeignState(in: sandbox, avoiding: desired, using: &random)
    }
    func drift(in sandbox: Sandbox, desired: CgroupDesiredState, using random: inout SimRandom)
        async throws -> Drift<String, String>
    {
        try await base.drift(in: sandbox, desired: desired, using: &random)
    }
    func injectFaults(in sandbox: Sandbox, using random: inout SimRandom) async throws {
        try await base.injectFaults(in: sandbox, using: &random)
    }
    func stopFaults(in sandbox: Sandbox) async throws { try await base.stopFaults(in: sandbox) }
    func kernel(of sandbox: Sandbox) -> SimKernel { sandbox.kernel }
    func fuzzDesired(in sandbox: Sandbox, using random: inout SimRandom) -> CgroupDesiredState {
        base.fuzzDesired(in: sandbox, using: &random)
    }
}
