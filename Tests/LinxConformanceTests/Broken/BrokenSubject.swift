import HostsSourceExample
import LinxConformance

/// The hosts subject with its Source swapped for a deliberately broken one,
/// so the suite can prove that the cases meant for each flaw catch it.
struct BrokenSubject<Broken: ReconcileSource>: ConformanceSubject
where
    Broken.Scope == HostsFile, Broken.Desired == [HostsEntry], Broken.LastApplied == Set<String>,
    Broken.Item == HostsEntry, Broken.Options == HostsSource.Options
{
    typealias Source = Broken
    typealias Sandbox = HostsFile
    typealias EntryKey = String
    typealias EntryValue = String

    let name: String
    let broken: Broken
    /// False: the subject cannot read its Source's ownership record (a
    /// third-party subject without ``ConformanceSubject/ownedEntries(in:in:)``).
    var readsOwnership = true
    let base = HostsSubject()

    var capabilities: Set<SubjectCapability> { base.capabilities }
    var emptyDesired: [HostsEntry] { [] }
    var emptyLastApplied: Set<String> { [] }

    func makeSandbox(seed: UInt64) async throws -> HostsFile { try await base.makeSandbox(seed: seed) }
    func tearDown(_ sandbox: HostsFile) async { await base.tearDown(sandbox) }
    func source(for sandbox: HostsFile) -> Broken { broken }
    func scope(of sandbox: HostsFile) -> HostsFile { sandbox }
    func options(for sandbox: HostsFile) -> HostsSource.Options { .init() }

    func validDesired(in sandbox: HostsFile, using random: inout SimRandom) -> [HostsEntry] {
        base.validDesired(in: sandbox, using: &random)
    }
    func invalidDesired(in sandbox: HostsFile) -> [InvalidDesired<[HostsEntry]>] { base.invalidDesired(in: sandbox) }
    func expectedEntries(for desired: [HostsEntry], in sandbox: HostsFile) -> [String: String] {
        base.expectedEntries(for: desired, in: sandbox)
    }
    func effect(of op: ReconcileOp<HostsEntry>, in sandbox: HostsFile) -> OpEffect<String, String> {
        base.effect(of: op, in: sandbox)
    }
    func release(from desired: [HostsEntry], in sandbox: HostsFile, using random: inout SimRandom)
        -> Release<[HostsEntry], String, String>?
    {
        base.release(from: desired, in: sandbox, using: &random)
    }
    func snapshot(of sandbox: HostsFile) async throws -> ScopeSnapshot<String, String> {
        try await base.snapshot(of: sandbox)
    }
    func makeForeignState(in sandbox: HostsFile, avoiding desired: [HostsEntry], using random: inout SimRandom)
        async throws -> [String: String]
    {
        try await base.makeForeignState(in: sandbox, avoiding: desired, using: &random)
    }
    func drift(in sandbox: HostsFile, desired: [HostsEntry], using random: inout SimRandom)
        async throws -> Drift<String, String>
    {
        try await base.drift(in: sandbox, desired: desired, using: &random)
    }
    func injectFaults(in sandbox: HostsFile, using random: inout SimRandom) async throws {
        try await base.injectFaults(in: sandbox, using: &random)
    }
    func stopFaults(in sandbox: HostsFile) async throws { try await base.stopFaults(in: sandbox) }
    func triggerChange(in sandbox: HostsFile) async throws { try await base.triggerChange(in: sandbox) }
    func triggerOverflow(in sandbox: HostsFile) async throws { try await base.triggerOverflow(in: sandbox) }
    func ownedEntries(in lastApplied: Set<String>, in sandbox: HostsFile) -> Set<String>? {
        readsOwnership ? base.ownedEntries(in: lastApplied, in: sandbox) : nil
    }
    func mustBeAbsent(_ key: String, value: String, when desired: [HostsEntry], in sandbox: HostsFile) -> Bool {
        base.mustBeAbsent(key, value: value, when: desired, in: sandbox)
    }
    func mutationStamp(of sandbox: HostsFile) async throws -> MutationStamp? {
        try await base.mutationStamp(of: sandbox)
    }
}
