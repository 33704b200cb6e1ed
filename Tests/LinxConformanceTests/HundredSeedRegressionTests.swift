import LinxConformance
import LinxReconcile
import Testing

/// Seeds on which `linx conformance --seeds 100` failed a good built-in
/// Source, replayed one seed each, and the subject rules behind the fixes.
@Suite("Built-in Sources on the seeds 100-seed runs found")
struct HundredSeedRegressionTests {
    /// rtnl seed 17 drew two addresses, each some route's gateway subnet:
    /// the subject's release(from:) found no address to take out and gave
    /// up instead of releasing a route.
    @Test("rtnl/sim release-removes-exactly-it, seed 17")
    func rtnlSeed17() async throws {
        let testCase = try #require(ConformanceCase(id: "release-removes-exactly-it"))
        try await Conformance.check(RtnlSimSubject(), case: testCase, options: ConformanceOptions(seed: 17, seedCount: 1))
    }

    /// sysctl seed 56 released the port range (its boot value comes back)
    /// while the start rose above the range's old low end: the Source wrote
    /// the start first and the kernel refused it.
    @Test("sysctl/sim report-keeps-contract, seed 56")
    func sysctlSeed56() async throws {
        let testCase = try #require(ConformanceCase(id: "report-keeps-contract"))
        try await Conformance.check(SysctlSimSubject(), case: testCase, options: ConformanceOptions(seed: 56, seedCount: 1))
    }

    @Test("an rtnl desired state whose every address carries a route still has something to release")
    func rtnlReleaseFallsBackToARoute() throws {
        let desired: RtnlDesiredState = [
            .address("10.1.1.5/24", on: "eth0"), .address("10.2.3.5/24", on: "eth1"),
            .route(to: "10.200.1.0/24", via: "10.1.1.1"), .route(to: "10.200.2.0/24", via: "10.2.3.1"),
        ]
        for seed in UInt64(0)..<64 {
            var random = SimRandom(seed: seed)
            let release = try #require(RtnlStateModel.release(from: desired, using: &random), "seed \(seed)")
            #expect((release.desired.routes ?? []).count == 1 && (release.desired.addresses ?? []).count == 2)
        }
        var random = SimRandom(seed: 1)
        for _ in 0..<2000 {
            let drawn = RtnlStateModel.validDesired(links: RtnlSimSubject.links, using: &random)
            #expect(RtnlStateModel.release(from: drawn, using: &random) != nil, "\(drawn)")
        }
    }
}
