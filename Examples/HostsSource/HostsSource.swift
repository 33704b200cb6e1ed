import LinxReconcile

/// A ``ReconcileSource`` for the hosts store: keeps the entries it is given
/// and releases (removes) entries it made that are no longer wanted, never
/// touching entries someone else wrote.
///
/// The store does not tag who wrote an entry, so ownership is three-way:
/// `lastApplied` is the set of names this Source owns. Entries are
/// independent, so a pass is best-effort: every op is tried, failures are
/// collected, nothing is pending.
public struct HostsSource: ReconcileSource {
    public typealias Scope = HostsFile
    public typealias Desired = [HostsEntry]
    public typealias LastApplied = Set<String>
    public typealias Observed = [HostsEntry]
    public typealias Item = HostsEntry

    /// The hosts Source has no options.
    public struct Options: Sendable, Hashable {
        public init() {}
    }

    public init() {}

    public func reconcile(
        scope: HostsFile, desired: [HostsEntry], lastApplied: Set<String>, options: Options
    ) async throws(ReconcileError) -> ReconcileReport<HostsEntry, Set<String>> {
        let wanted = try Self.validate(desired)
        let observed = try observe(scope: scope, options: options)
        let ops = Diff.threeWay(desired: wanted, observed: observed, owned: lastApplied)
        var report = ReconcileReport<HostsEntry, Set<String>>(lastApplied: lastApplied, strategy: .bestEffort)
        for op in ops {
            do {
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
                report.applied.append(op)
            } catch {
                report.failed.append(FailedOp(op, error: error))
            }
        }
        report.lastApplied = Self.owned(after: report, wanted: wanted, observed: observed, previously: lastApplied)
        return report
    }

    public func observe(scope: HostsFile, options: Options) throws(ReconcileError) -> [HostsEntry] {
        do {
            return try scope.read().map { HostsEntry($0.key, $0.value) }.sorted { $0.name < $1.name }
        } catch {
            throw .observeFailed(resource: "hosts entries", error: error)
        }
    }

    public func subscribe(scope: HostsFile) async throws(ReconcileError) -> HintSubscription {
        let changes = scope.changes()
        let (hints, continuation) = AsyncThrowingStream<ReconcileHint, any Error>.makeStream()
        let relay = Task {
            do {
                for try await change in changes {
                    continuation.yield(change == .overflow ? .resyncNeeded : .changed)
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in relay.cancel() }
        return .hints(hints)
    }

    /// Checks every entry and returns them with addresses in canonical form.
    /// Rejects the whole desired state on the first bad entry, naming it.
    public static func validate(_ desired: [HostsEntry]) throws(ReconcileError) -> [HostsEntry] {
        var seen: [String: String] = [:]
        var result: [HostsEntry] = []
        for (index, entry) in desired.enumerated() {
            let label = "entry \(index + 1) (\(entry.name.isEmpty ? "\"\"" : entry.name))"
            if let problem = hostNameProblem(entry.name) {
                throw .invalidDesired(entry: label, reason: problem)
            }
            let address: String
            do {
                address = try IPAddress(entry.address).description
            } catch {
                throw .invalidDesired(entry: label, reason: "address \(error)")
            }
            if let earlier = seen[entry.name] {
                if earlier != address {
                    throw .invalidDesired(
                        entry: label, reason: "\(entry.name) is listed twice, as \(earlier) and as \(address)")
                }
                continue
            }
            seen[entry.name] = address
            result.append(HostsEntry(entry.name, address))
        }
        return result
    }

    static func hostNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "the host name is empty" }
        if name.utf8.count > 253 { return "the host name is longer than 253 bytes" }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            if label.isEmpty { return "the host name has an empty label" }
            if label.first == "-" || label.last == "-" { return "a label starts or ends with '-'" }
            if !label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) {
                return "the host name may only hold letters, digits, '-' and '.'"
            }
        }
        return nil
    }

    /// What this Source owns after a pass: names it made or found as wanted,
    /// minus those it released; a failed release stays owned so the next
    /// pass retries it; a failed create of a name never owned is not owned.
    static func owned(
        after report: ReconcileReport<HostsEntry, Set<String>>, wanted: [HostsEntry], observed: [HostsEntry],
        previously: Set<String>
    ) -> Set<String> {
        var owned = previously
        let failed = Set(report.failed.map(\.op.item.name))
        for entry in wanted where !failed.contains(entry.name) { owned.insert(entry.name) }
        for op in report.applied where op.isDelete { owned.remove(op.item.name) }
        let present = Set(observed.map(\.name))
        let wantedNames = Set(wanted.map(\.name))
        for name in previously where !present.contains(name) && !wantedNames.contains(name) {
            owned.remove(name)
        }
        return owned
    }
}
