import LinxConformance
import Testing

/// The built-in Sources pass the suite on the simulated kernel, each case on
/// the default seeds; the cases a subject cannot run show as skipped.
@Suite("Built-in Sources on the simulated kernel")
struct BuiltinSubjectTests {
    // Seed 1 found the same-subnet primary swap (fixed in RtnlPrimarySwap).
    @Test("rtnl/sim", arguments: Conformance.runnableCases(RtnlSimSubject()))
    func rtnl(_ testCase: ConformanceCase) async throws {
        try await Conformance.check(RtnlSimSubject(), case: testCase)
    }

    @Test("sysctl/sim", arguments: Conformance.runnableCases(SysctlSimSubject()))
    func sysctl(_ testCase: ConformanceCase) async throws {
        try await Conformance.check(SysctlSimSubject(), case: testCase)
    }

    @Test("cgroup/sim", arguments: Conformance.runnableCases(CgroupSimSubject()))
    func cgroup(_ testCase: ConformanceCase) async throws {
        try await Conformance.check(CgroupSimSubject(), case: testCase)
    }

    // Seed 0 found rule moves reported as a delete and a create of one rule
    // (fixed: a move is one update op).
    @Test("nftables/sim", arguments: Conformance.runnableCases(NftablesSimSubject()))
    func nftables(_ testCase: ConformanceCase) async throws {
        try await Conformance.check(NftablesSimSubject(), case: testCase)
    }

    @Test("sysctl/sim: cases not run", .disabled(Comment(rawValue: Conformance.skipSummary(SysctlSimSubject()))))
    func sysctlSkipped() {}

    @Test("cgroup/sim: cases not run", .disabled(Comment(rawValue: Conformance.skipSummary(CgroupSimSubject()))))
    func cgroupSkipped() {}
}
