import HostsSourceExample
import LinxConformance

/// One defect a real Source author makes, each the kind that a report can
/// hide: the gallery the suite's oracle must catch.
enum HostsDefect: String, CaseIterable, Sendable, CustomStringConvertible {
    /// A release the store refused is left out of the report (neither
    /// applied nor failed); the name stays owned and is retried later.
    case omitsRefusedRelease
    /// A pass with nothing to do rewrites every entry with the bytes already
    /// there, and reports nothing.
    case rewritesOnNoOp
    /// A create that failed is still recorded as owned, so a later release
    /// would delete an entry of that name someone else made.
    case ownsFailedCreate
    /// An op that failed is retried in the same pass and, when the retry
    /// works, reported both failed and applied.
    case reportsRetryTwice
    /// After a failed update the name is dropped from lastApplied: it is
    /// never released (a leak).
    case dropsOwnershipAfterFailedUpdate
    /// After a failed release the name is dropped from lastApplied (a leak).
    case dropsOwnershipAfterFailedRelease
    /// An empty desired state is taken as "nothing to do".
    case ignoresEmptyDesired
    /// Forgets names that are no longer desired instead of releasing them.
    case forgetsReleases

    var description: String { rawValue }

    /// The case written to catch it.
    var catchingCase: ConformanceCase {
        switch self {
        case .omitsRefusedRelease, .ownsFailedCreate, .dropsOwnershipAfterFailedUpdate, .dropsOwnershipAfterFailedRelease:
            .failedOpsKeepOwnership
        case .rewritesOnNoOp: .noOpPassWritesNothing
        case .reportsRetryTwice: .convergesAfterFaults
        case .ignoresEmptyDesired: .foreignSurvivesEmptyDesired
        case .forgetsReleases: .reportKeepsContract
        }
    }
}

/// A best-effort hosts Source written from scratch (not the example's), with
/// exactly one ``HostsDefect`` (none: the correct Source the defects bend).
struct DefectiveHostsSource: ReconcileSource {
    let defect: HostsDefect?

    func reconcile(
        scope: HostsFile, desired: [HostsEntry], lastApplied: Set<String>, options: HostsSource.Options
    ) async throws(ReconcileError) -> ReconcileReport<HostsEntry, Set<String>> {
        let wanted = try HostsSource.validate(desired)
        if defect == .ignoresEmptyDesired && wanted.isEmpty {
            return ReconcileReport(lastApplied: lastApplied, strategy: .bestEffort)
        }
        let observed = try observe(scope: scope, options: options)
        let wantedNames = Set(wanted.map(\.name))
        let owned = defect == .forgetsReleases ? lastApplied.intersection(wantedNames) : lastApplied
        let ops = Diff.threeWay(desired: wanted, observed: observed, owned: owned)
        var report = ReconcileReport<HostsEntry, Set<String>>(lastApplied: owned, strategy: .bestEffort)
        for op in ops {
            do {
                try Self.write(op, to: scope)
                report.applied.append(op)
            } catch {
                if defect == .omitsRefusedRelease && op.isDelete { continue }
                report.failed.append(FailedOp(op, error: error))
                if defect == .reportsRetryTwice, (try? Self.write(op, to: scope)) != nil { report.applied.append(op) }
            }
        }
        if defect == .rewritesOnNoOp && ops.isEmpty {
            for entry in wanted { try? scope.set(entry.name, to: entry.address) }
        }
        report.lastApplied = ownership(after: report, planned: ops, wanted: wantedNames, observed: observed, owned: owned)
        return report
    }

    /// Owned after the pass: what was owned, plus every wanted name that
    /// needed no op or whose op worked, minus releases that worked and names
    /// someone else removed; a failed op keeps the ownership it had. Each
    /// defect bends one of these rules.
    func ownership(
        after report: ReconcileReport<HostsEntry, Set<String>>, planned: [ReconcileOp<HostsEntry>], wanted: Set<String>,
        observed: [HostsEntry], owned: Set<String>
    ) -> Set<String> {
        var next = owned
        let touched = Set(planned.map(\.item.name))
        for name in wanted where !touched.contains(name) { next.insert(name) }
        for op in report.applied {
            if op.isDelete { next.remove(op.item.name) } else { next.insert(op.item.name) }
        }
        for failed in report.failed {
            switch failed.op {
            case .create where defect == .ownsFailedCreate: next.insert(failed.op.item.name)
            case .update where defect == .dropsOwnershipAfterFailedUpdate: next.remove(failed.op.item.name)
            case .delete where defect == .dropsOwnershipAfterFailedRelease: next.remove(failed.op.item.name)
            default: break
            }
        }
        let present = Set(observed.map(\.name))
        for name in owned where !present.contains(name) && !wanted.contains(name) { next.remove(name) }
        return next
    }

    static func write(_ op: ReconcileOp<HostsEntry>, to scope: HostsFile) throws(KernelError) {
        switch op {
        case .create(let entry), .update(let entry, _):
            try scope.set(entry.name, to: entry.address)
        case .delete(let entry):
            do {
                try scope.remove(entry.name)
            } catch where error.errno == .noSuchFileOrDirectory {
                // Already gone: released all the same.
            }
        }
    }

    func observe(scope: HostsFile, options: HostsSource.Options) throws(ReconcileError) -> [HostsEntry] {
        try HostsSource().observe(scope: scope, options: options)
    }

    func subscribe(scope: HostsFile) async throws(ReconcileError) -> HintSubscription {
        try await HostsSource().subscribe(scope: scope)
    }
}
