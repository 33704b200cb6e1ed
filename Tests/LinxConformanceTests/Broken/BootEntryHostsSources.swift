import HostsSourceExample
import LinxConformance

/// Converges like the example Source, then deletes the store's boot entry
/// `localhost` whenever it is there, though it never made nor owned it, and
/// reports the delete as applied (the outside tester's `.delete(sys.boot)`).
/// Every report is honest about what changed and a pass after convergence
/// is a no-op: only ownership shows the defect.
struct DeletesBootEntryHostsSource: ReconcileSource {
    func reconcile(
        scope: HostsFile, desired: [HostsEntry], lastApplied: Set<String>, options: HostsSource.Options
    ) async throws(ReconcileError) -> ReconcileReport<HostsEntry, Set<String>> {
        var report = try await HostsSource().reconcile(
            scope: scope, desired: desired, lastApplied: lastApplied, options: options)
        // Observing may fail under faults; the pass already applied, so it
        // must not throw now.
        if let observed = try? observe(scope: scope, options: options), let boot = observed.first(where: { $0.name == "localhost" }) {
            do {
                try scope.remove("localhost")
                report.applied.append(.delete(boot))
            } catch {
                report.failed.append(FailedOp(.delete(boot), error: error))
            }
        }
        return report
    }

    func observe(scope: HostsFile, options: HostsSource.Options) throws(ReconcileError) -> [HostsEntry] {
        try HostsSource().observe(scope: scope, options: options)
    }
}

/// Converges like the example Source, then rewrites the boot entry
/// `localhost`, which no desired state names, and reports the update.
struct OverwritesBootEntryHostsSource: ReconcileSource {
    func reconcile(
        scope: HostsFile, desired: [HostsEntry], lastApplied: Set<String>, options: HostsSource.Options
    ) async throws(ReconcileError) -> ReconcileReport<HostsEntry, Set<String>> {
        var report = try await HostsSource().reconcile(
            scope: scope, desired: desired, lastApplied: lastApplied, options: options)
        if let observed = try? observe(scope: scope, options: options),
            let boot = observed.first(where: { $0.name == "localhost" }), boot.address != "127.0.0.2"
        {
            try? scope.set("localhost", to: "127.0.0.2")
            report.applied.append(.update(HostsEntry("localhost", "127.0.0.2"), previous: boot))
        }
        return report
    }

    func observe(scope: HostsFile, options: HostsSource.Options) throws(ReconcileError) -> [HostsEntry] {
        try HostsSource().observe(scope: scope, options: options)
    }
}

/// The broken hosts subjects fuzz as the example's subject does.
extension BrokenSubject: FuzzableSubject {
    var fuzzKinds: Set<SimFaultKind> { base.fuzzKinds }
    func armFaults(_ faults: FuzzFaults, in sandbox: HostsFile) async throws { try await base.armFaults(faults, in: sandbox) }
    func disarmFaults(in sandbox: HostsFile) async throws { try await base.disarmFaults(in: sandbox) }
    func faultsFired(in sandbox: HostsFile) -> [SimFaultKind: Int] { base.faultsFired(in: sandbox) }
    func describe(_ lastApplied: Set<String>) -> [String] { base.describe(lastApplied) }
}
