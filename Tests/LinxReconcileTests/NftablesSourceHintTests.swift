import LinxKernelSim
import LinxReconcile
import Testing

/// The nftables Source's hints follow the namespace's name, as the rtnl
/// Source's do: a monitor belongs to its namespace, which lives on silently
/// for it once deleted.
@Suite("nftables Source hints across a namespace's lifetime (simulated kernel)", .timeLimit(.minutes(1)))
struct NftablesSourceHintTests {
    let scope = NftScope(.named("pod"), table: NftTableRef(.inet, "linx"))

    @Test("deleted and re-created: scopeLost, scopeReplaced, then commits in the new namespace are hints")
    func followsTheName() async throws {
        let kernel = SimKernel(seed: 5)
        try kernel.createNamespace(scope.netns)
        guard case .hints(let hints) = try await NftablesSource(backend: kernel).subscribe(scope: scope) else {
            Issue.record("no hints")
            return
        }
        var iterator = hints.makeAsyncIterator()
        try kernel.nftSocket().commit([.addTable(NftTableRef(.ip, "someone"), flags: [], comment: nil)], in: scope.netns)
        #expect(try await iterator.next() == .changed)
        try kernel.deleteNamespace(scope.netns)
        guard case .scopeLost = try await iterator.next() else {
            Issue.record("expected scopeLost")
            return
        }
        try kernel.createNamespace(scope.netns)
        #expect(try await iterator.next() == .scopeReplaced)
        try kernel.nftSocket().commit([.addTable(NftTableRef(.ip, "again"), flags: [], comment: nil)], in: scope.netns)
        #expect(try await iterator.next() == .changed)
        #expect(kernel.pinnedNamespaces.isEmpty, "the old namespace is still held: \(kernel.pinnedNamespaces)")
    }

    @Test("a namespace that does not exist is scopeUnavailable at subscribe")
    func missing() async throws {
        await #expect {
            _ = try await NftablesSource(backend: SimKernel(seed: 6)).subscribe(scope: scope)
        } throws: { error in
            if case ReconcileError.scopeUnavailable = error { true } else { false }
        }
    }
}
