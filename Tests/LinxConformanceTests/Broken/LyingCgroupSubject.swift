import LinxConformance
import LinxKernelSim
import LinxReconcile

/// Reports every write the kernel refused as applied, and the pass as
/// converged: honest until a fault bites, so only fuzzing (or the fault
/// cases) can catch it.
struct LyingCgroupSource: ReconcileSource {
    let honest: CgroupSource

    func reconcile(
        scope: String, desired: CgroupDesiredState, lastApplied: CgroupLastApplied, options: CgroupOptions
    ) async throws(ReconcileError) -> ReconcileReport<CgroupSetting, CgroupLastApplied> {
        var report = try await honest.reconcile(scope: scope, desired: desired, lastApplied: lastApplied, options: options)
        report.applied += report.failed.map(\.op)
        report.failed = []
        return report
    }

    func observe(scope: String, options: CgroupOptions) async throws(ReconcileError) -> [String: String] {
        try await honest.observe(scope: scope, options: options)
    }
}

/// The cgroup simulator subject with the broken Source in place of the real one.
func lyingCgroupSubject() -> SwappedSourceSubject<CgroupSimSubject, LyingCgroupSource> {
    SwappedSourceSubject(base: CgroupSimSubject(), name: "lying-cgroup/sim") { LyingCgroupSource(honest: $0) }
}
