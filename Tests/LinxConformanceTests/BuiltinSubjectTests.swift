import LinxConformance
import Testing

/// The built-in Sources pass the suite on the simulated kernel, on several seeds.
@Suite("Built-in Sources on the simulated kernel")
struct BuiltinSubjectTests {
    @Test("rtnl/sim", arguments: ConformanceCase.all)
    func rtnl(_ testCase: ConformanceCase) async throws {
        for seed: UInt64 in 0..<4 {
            // Seed 1 found the same-subnet primary swap (fixed in RtnlPrimarySwap).
            try await Conformance.check(RtnlSimSubject(), case: testCase, options: ConformanceOptions(seed: seed))
        }
    }
}

extension BuiltinSubjectTests {
    @Test("sysctl/sim", arguments: ConformanceCase.all)
    func sysctl(_ testCase: ConformanceCase) async throws {
        for seed: UInt64 in 0..<4 {
            try await Conformance.check(SysctlSimSubject(), case: testCase, options: ConformanceOptions(seed: seed))
        }
    }

    @Test("cgroup/sim", arguments: ConformanceCase.all)
    func cgroup(_ testCase: ConformanceCase) async throws {
        for seed: UInt64 in 0..<4 {
            try await Conformance.check(CgroupSimSubject(), case: testCase, options: ConformanceOptions(seed: seed))
        }
    }
}
