@testable import LinxConformance
import LinxKernelSim
import LinxReconcile
import Testing

/// The rtnl sim subject keeps its last snapshot while the kernel's stamps
/// say both namespaces are unchanged; fuzzing with it must run exactly as
/// reading every snapshot afresh does.
@Suite("rtnl sim subject: kept snapshots")
struct SnapshotMemoTests {
    @Test("fuzz scenarios give the same histories and traces with kept snapshots as with fresh ones")
    func keptSnapshotsChangeNothing() async {
        var fresh = RtnlSimSubject()
        fresh.keepsSnapshots = false
        var kinds = Set<SimFaultKind>()
        for index in 0..<40 {
            let scenario = FuzzScenario.draw(campaignSeed: 31, index: index, available: Set(SimFaultKind.allCases))
            let kept = await FuzzRunner.run(RtnlSimSubject(), scenario: scenario, maxPasses: 5, traced: true)
            let read = await FuzzRunner.run(fresh, scenario: scenario, maxPasses: 5, traced: true)
            #expect(kept.history != nil && kept.history == read.history, "\(scenario)")
            #expect(kept.passes == read.passes && kept.fired == read.fired && kept.failure == read.failure, "\(scenario)")
            kinds.formUnion(kept.fired.filter { $0.value > 0 }.keys)
        }
        #expect(kinds.isSuperset(of: [.vanish, .reboot, .drift, .eexistRace]))
    }

    @Test("a snapshot is kept while nothing changes and read again after any change, in either namespace")
    func keptUntilAChange() async throws {
        let subject = RtnlSimSubject()
        let sandbox = try await subject.makeSandbox(seed: 3)
        let first = try await subject.snapshot(of: sandbox)
        #expect(try await subject.snapshot(of: sandbox) == first)
        let eth0 = try #require(sandbox.kernel.ifindex(of: "eth0", in: sandbox.scope))
        _ = sandbox.kernel.foreign.execute(
            [.addAddress(InterfaceAddress(ifindex: eth0, address: try IPAddress("192.168.7.1"), prefixLength: 24))], in: sandbox.scope)
        let second = try await subject.snapshot(of: sandbox)
        let secondRead = try RtnlSimSubject.readSnapshot(of: sandbox)
        #expect(second != first && second == secondRead)
        _ = sandbox.kernel.foreign.execute(
            [.addAddress(InterfaceAddress(ifindex: 1, address: try IPAddress("198.18.0.1"), prefixLength: 32))], in: .current)
        let third = try await subject.snapshot(of: sandbox)
        let thirdRead = try RtnlSimSubject.readSnapshot(of: sandbox)
        #expect(third != second && third == thirdRead)
    }
}
