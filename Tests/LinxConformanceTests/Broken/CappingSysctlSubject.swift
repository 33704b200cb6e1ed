import LinxConformance
import LinxKernelSim
import LinxReconcile

/// Silently caps net.core.somaxconn at 4096 and reports the pass as
/// converged: honest about every op it ran, wrong about the state. Only a
/// desired value above the cap shows it, so the failure comes at whichever
/// pass first wants one, which a trace must name.
struct CappingSysctlSource: ReconcileSource {
    static let key = "net.core.somaxconn"
    let honest: SysctlSource

    func reconcile(
        scope: NetnsScope, desired: SysctlDesiredState, lastApplied: SysctlLastApplied, options: SysctlOptions
    ) async throws(ReconcileError) -> ReconcileReport<SysctlSetting, SysctlLastApplied> {
        var capped = desired.values
        if case .integer(let value)? = capped[Self.key], value > 4096 { capped[Self.key] = .integer(4096) }
        return try await honest.reconcile(
            scope: scope, desired: SysctlDesiredState(capped), lastApplied: lastApplied, options: options)
    }

    func observe(scope: NetnsScope, options: SysctlOptions) async throws(ReconcileError) -> [SysctlKey: String] {
        try await honest.observe(scope: scope, options: options)
    }
}

/// The sysctl simulator subject with the broken Source in place of the real one.
func cappingSysctlSubject() -> SwappedSourceSubject<SysctlSimSubject, CappingSysctlSource> {
    SwappedSourceSubject(base: SysctlSimSubject(), name: "capping-sysctl/sim") { CappingSysctlSource(honest: $0) }
}
