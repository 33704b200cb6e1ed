@testable import LinxConformance
import LinxKernelSim
import LinxReconcile
import Testing

/// The nftables sim subject keeps its last snapshot while the kernel's
/// nf_tables stamps say both namespaces' tables are unchanged; fuzzing with
/// it must run exactly as reading every snapshot afresh does.
@Suite("nftables sim subject: kept snapshots")
struct NftSnapshotMemoTests {
    @Test("fuzz scenarios give the same histories and traces with kept snapshots as with fresh ones")
    func keptSnapshotsChangeNothing() async {
        var fresh = NftablesSimSubject()
        fresh.keepsSnapshots = false
        let subject = NftablesSimSubject()
        var kinds = Set<SimFaultKind>()
        for index in 0..<60 {
            let scenario = FuzzScenario.draw(campaignSeed: 41, index: index, available: subject.fuzzKinds)
            let kept = await FuzzRunner.run(subject, scenario: scenario, maxPasses: 5, traced: true)
            let read = await FuzzRunner.run(fresh, scenario: scenario, maxPasses: 5, traced: true)
            #expect(kept.history != nil && kept.history == read.history, "\(scenario)")
            #expect(kept.passes == read.passes && kept.fired == read.fired && kept.failure == read.failure, "\(scenario)")
            kinds.formUnion(kept.fired.filter { $0.value > 0 }.keys)
        }
        #expect(kinds.isSuperset(of: [.errno, .reboot, .drift]))
    }

    @Test("a snapshot is kept while nothing changes and read again after any change, in either namespace")
    func keptUntilAChange() async throws {
        let subject = NftablesSimSubject()
        let sandbox = try await subject.makeSandbox(seed: 3)
        let first = try await subject.snapshot(of: sandbox)
        #expect(try await subject.snapshot(of: sandbox) == first)
        let socket = sandbox.kernel.nftSocket()
        try socket.commit([.addTable(NftTableRef(.inet, "other"), flags: [], comment: nil)], in: sandbox.scope.netns)
        let second = try await subject.snapshot(of: sandbox)
        #expect(second != first && second == NftablesSimSubject.readSnapshot(of: sandbox))
        // A commit that changes nothing keeps it.
        try socket.commit([], in: sandbox.scope.netns)
        #expect(try await subject.snapshot(of: sandbox) == second)
        try socket.commit([.addTable(NftablesStateModel.table, flags: [], comment: "linx")], in: .current)
        let third = try await subject.snapshot(of: sandbox)
        #expect(third != second && third == NftablesSimSubject.readSnapshot(of: sandbox))
    }
}
