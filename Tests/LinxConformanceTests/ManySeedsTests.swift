import Foundation
import HostsSourceExample
import LinxConformance
import Testing

/// The good Sources on many seeds, on demand: `LINX_CONFORMANCE_SEEDS=100
/// swift test --filter ManySeedsTests` runs every case of the hosts example
/// and the built-in simulator subjects on seeds 0..<100 (the plain run uses
/// the default five, in HostsConformanceTests and BuiltinSubjectTests).
/// Seeds per case asked for in the environment (nil: not asked).
private let manySeeds = ProcessInfo.processInfo.environment["LINX_CONFORMANCE_SEEDS"].flatMap { Int($0) }

@Suite("Good Sources on many seeds", .enabled(if: manySeeds != nil, "set LINX_CONFORMANCE_SEEDS=N to run every case on N seeds"))
struct ManySeedsTests {
    static func expectClean<Subject: ConformanceSubject>(_ subject: Subject) async {
        let options = ConformanceOptions(seedCount: manySeeds ?? ConformanceOptions.defaultSeedCount)
        let started = ContinuousClock.now
        let results = await Conformance.run(subject, options: options)
        let ran = results.cases.filter { if case .skipped = $0.outcome { false } else { true } }
        print("\(subject.name): \(ran.count) cases x \(options.seedCount) seeds in \(ContinuousClock.now - started)")
        #expect(results.succeeded, "\(TableReporter.render([results]))")
        #expect(ran.allSatisfy { $0.seedsRun == options.seedCount })
    }

    @Test("hosts example") func hosts() async { await Self.expectClean(HostsSubject()) }
    @Test("rtnl/sim") func rtnl() async { await Self.expectClean(RtnlSimSubject()) }
    @Test("sysctl/sim") func sysctl() async { await Self.expectClean(SysctlSimSubject()) }
    @Test("cgroup/sim") func cgroup() async { await Self.expectClean(CgroupSimSubject()) }
}
