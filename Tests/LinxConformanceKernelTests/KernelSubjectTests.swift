import Glibc
import LinxConformance
import LinxConformanceKernel
import Testing

/// The built-in Sources on the real kernel, each case in a throwaway network
/// namespace or cgroup that is always removed. Without root the tests are
/// skipped, saying why; cases a subject cannot run are listed as skipped.
@Suite("Built-in Sources on the real kernel (root only)", .serialized, .enabled(if: getuid() == 0, "needs root: each case makes a throwaway network namespace or cgroup"))
struct KernelSubjectTests {
    @Test("rtnl/kernel", arguments: Conformance.runnableCases(RtnlKernelSubject()))
    func rtnl(_ testCase: ConformanceCase) async throws {
        try await Conformance.check(RtnlKernelSubject(), case: testCase, options: ConformanceOptions(seedCount: 2))
    }

    @Test("sysctl/kernel", arguments: Conformance.runnableCases(SysctlKernelSubject()))
    func sysctl(_ testCase: ConformanceCase) async throws {
        try await Conformance.check(SysctlKernelSubject(), case: testCase, options: ConformanceOptions(seedCount: 2))
    }

    @Test("cgroup/kernel", arguments: Conformance.runnableCases(CgroupKernelSubject()))
    func cgroup(_ testCase: ConformanceCase) async throws {
        try await Conformance.check(CgroupKernelSubject(), case: testCase, options: ConformanceOptions(seedCount: 2))
    }

    @Test("nftables/kernel", .enabled(if: NftablesKernelSubject().unavailableReason == nil, "needs the nft command"), arguments: Conformance.runnableCases(NftablesKernelSubject()))
    func nftables(_ testCase: ConformanceCase) async throws {
        try await Conformance.check(NftablesKernelSubject(), case: testCase, options: ConformanceOptions(seedCount: 2))
    }

    @Test("real kernel: cases not run", .disabled(Comment(rawValue: [
        Conformance.skipSummary(RtnlKernelSubject()), Conformance.skipSummary(SysctlKernelSubject()),
        Conformance.skipSummary(CgroupKernelSubject()), Conformance.skipSummary(NftablesKernelSubject()),
    ].joined(separator: " | "))))
    func skipped() {}
}
