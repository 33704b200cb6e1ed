import HostsSourceExample
import LinxReconcile

/// Claims every observed entry as its own, so it deletes foreign entries
/// whenever they are not in the desired state.
struct GreedyHostsSource: ReconcileSource {
    func reconcile(
        scope: HostsFile, desired: [HostsEntry], lastApplied: Set<String>, options: HostsSource.Options
    ) async throws(ReconcileError) -> ReconcileReport<HostsEntry, Set<String>> {
        let everything = Set(try HostsSource().observe(scope: scope, options: options).map(\.name))
        return try await HostsSource().reconcile(
            scope: scope, desired: desired, lastApplied: lastApplied.union(everything), options: options)
    }

    func observe(scope: HostsFile, options: HostsSource.Options) throws(ReconcileError) -> [HostsEntry] {
        try HostsSource().observe(scope: scope, options: options)
    }
}

/// Rewrites every desired entry on every pass, so a second pass is never a no-op.
struct RestlessHostsSource: ReconcileSource {
    func reconcile(
        scope: HostsFile, desired: [HostsEntry], lastApplied: Set<String>, options: HostsSource.Options
    ) async throws(ReconcileError) -> ReconcileReport<HostsEntry, Set<String>> {
        var report = try await HostsSource().reconcile(
            scope: scope, desired: desired, lastApplied: lastApplied, options: options)
        let touched = Set(report.planned.map(\.item.name))
        for entry in try HostsSource.validate(desired) where !touched.contains(entry.name) {
            try? scope.set(entry.name, to: entry.address)
            report.applied.append(.update(entry, previous: entry))
        }
        return report
    }

    func observe(scope: HostsFile, options: HostsSource.Options) throws(ReconcileError) -> [HostsEntry] {
        try HostsSource().observe(scope: scope, options: options)
    }
}

/// Skips the last release (delete) of a pass, yet reports it applied.
struct LyingHostsSource: ReconcileSource {
    func reconcile(
        scope: HostsFile, desired: [HostsEntry], lastApplied: Set<String>, options: HostsSource.Options
    ) async throws(ReconcileError) -> ReconcileReport<HostsEntry, Set<String>> {
        let wanted = try HostsSource.validate(desired)
        let observed = try observe(scope: scope, options: options)
        let ops = Diff.threeWay(desired: wanted, observed: observed, owned: lastApplied)
        let skipped = ops.lastIndex(where: \.isDelete)
        for (index, op) in ops.enumerated() where index != skipped {
            switch op {
            case .create(let entry), .update(let entry, _): try? scope.set(entry.name, to: entry.address)
            case .delete(let entry): try? scope.remove(entry.name)
            }
        }
        return ReconcileReport(applied: ops, lastApplied: Set(wanted.map(\.name)), strategy: .bestEffort)
    }

    func observe(scope: HostsFile, options: HostsSource.Options) throws(ReconcileError) -> [HostsEntry] {
        try HostsSource().observe(scope: scope, options: options)
    }
}

/// Forgets what it applied (always hands back an empty lastApplied), so it
/// can never release anything.
struct ForgetfulHostsSource: ReconcileSource {
    func reconcile(
        scope: HostsFile, desired: [HostsEntry], lastApplied: Set<String>, options: HostsSource.Options
    ) async throws(ReconcileError) -> ReconcileReport<HostsEntry, Set<String>> {
        var report = try await HostsSource().reconcile(
            scope: scope, desired: desired, lastApplied: lastApplied, options: options)
        report.lastApplied = []
        return report
    }

    func observe(scope: HostsFile, options: HostsSource.Options) throws(ReconcileError) -> [HostsEntry] {
        try HostsSource().observe(scope: scope, options: options)
    }
}

/// Writes whatever it is given, without validating it.
struct CarelessHostsSource: ReconcileSource {
    func reconcile(
        scope: HostsFile, desired: [HostsEntry], lastApplied: Set<String>, options: HostsSource.Options
    ) async throws(ReconcileError) -> ReconcileReport<HostsEntry, Set<String>> {
        var report = ReconcileReport<HostsEntry, Set<String>>(lastApplied: lastApplied, strategy: .bestEffort)
        let observed = try observe(scope: scope, options: options)
        for op in Diff.threeWay(desired: desired, observed: observed, owned: lastApplied) {
            switch op {
            case .create(let entry), .update(let entry, _): try? scope.set(entry.name, to: entry.address)
            case .delete(let entry): try? scope.remove(entry.name)
            }
            report.applied.append(op)
        }
        report.lastApplied = Set(desired.map(\.name))
        return report
    }

    func observe(scope: HostsFile, options: HostsSource.Options) throws(ReconcileError) -> [HostsEntry] {
        try HostsSource().observe(scope: scope, options: options)
    }
}

/// Reports `failFast` but keeps going after a failure, so a pass can carry
/// several failed ops and no pending ones.
struct MislabelledHostsSource: ReconcileSource {
    func reconcile(
        scope: HostsFile, desired: [HostsEntry], lastApplied: Set<String>, options: HostsSource.Options
    ) async throws(ReconcileError) -> ReconcileReport<HostsEntry, Set<String>> {
        var report = try await HostsSource().reconcile(
            scope: scope, desired: desired, lastApplied: lastApplied, options: options)
        report.strategy = .failFast
        return report
    }

    func observe(scope: HostsFile, options: HostsSource.Options) throws(ReconcileError) -> [HostsEntry] {
        try HostsSource().observe(scope: scope, options: options)
    }
}
