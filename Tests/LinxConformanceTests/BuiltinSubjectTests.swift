import LinxConformance
import Testing

/// The built-in Sources pass the suite on the simulated kernel, on several seeds.
@Suite("Built-in Sources on the simulated kernel")
struct BuiltinSubjectTests {
    @Test("rtnl/sim", arguments: ConformanceCase.all)
    func rtnl(_ testCase: ConformanceCase) async throws {
        for seed: UInt64 in 0..<4 {
            // Found by this suite (seed 1): replacing an IPv4 address with another in the same
            // subnet adds the new one as a secondary, then deletes the old primary, and the
            // kernel (promote_secondaries off) flushes the new one with it; the report says
            // applied. Only failures with that signature are known; anything else fails.
            try await withKnownIssue("RtnlReconciler: deleting a primary address flushes the secondary added in the same pass", isIntermittent: true) {
                try await Conformance.check(RtnlSimSubject(), case: testCase, options: ConformanceOptions(seed: seed))
            } matching: { issue in
                guard let failure = issue.error as? ConformanceCheckFailure else { return false }
                return failure.failure.evidence.contains { $0.hasPrefix("applied + address") && $0.contains("is absent") }
            }
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
