/// Single-shot declarative reconciliation of one cgroup's limits: read the
/// desired and owned interface files, write what differs, release what is no
/// longer desired.
///
/// Ownership is three-way (``CgroupLastApplied``); files are independent, so
/// a pass is best-effort: every op attempted, failures collected, nothing
/// pending. Values compare as the kernel stores them (for
/// the files whose kernel rounds or rewrites what is written), so a limit the kernel rounds converges instead of
/// being rewritten every pass. Releasing a file writes its known default
/// back, or only drops ownership
/// when it has none.
///
/// Refused before anything is written: a file name that is empty or holds
/// `/` or `..`, a file that is not a limit (``CgroupManagedFiles``: no
/// `cgroup.procs`, `cgroup.freeze` and the like)
/// (``ReconcileError/invalidDesired(entry:reason:path:)``), the same for a file
/// `lastApplied` owns and the pass would release, a file the
/// cgroup does not have (a controller not enabled, or not in this v1
/// hierarchy), and a scope that is not an absolute path to an existing
/// cgroup directory (``ReconcileError/scopeUnavailable(scope:reason:)``).
public struct CgroupReconciler: Sendable {
    /// The kernel this reconciler acts on.
    public let backend: any CgroupBackend

    /// A reconciler acting on `backend`.
    public init(backend: any CgroupBackend) {
        self.backend = backend
    }

    /// Checks file names without touching the kernel: file -> text to write.
    public static func validate(_ desired: CgroupDesiredState) throws(ReconcileError) -> [String: String] {
        for file in desired.files.keys.sorted() {
            if let reason = refusal(for: file) {
                throw .invalidDesired(entry: "cgroup file \"\(file)\"", reason: reason, path: [.key(file)])
            }
        }
        return desired.files.mapValues(\.text)
    }

    /// Checks the files `lastApplied` owns that a pass would release with
    /// the guards a desired file passes, so a record naming `../x` or
    /// `cgroup.procs` (edited by hand, or from an older linx) writes nothing.
    static func validateReleases(_ lastApplied: CgroupLastApplied, desired: [String: String]) throws(ReconcileError) {
        for file in lastApplied.files.sorted() where desired[file] == nil {
            if let reason = refusal(for: file) {
                throw .invalidDesired(entry: "cgroup file \"\(file)\" (owned, to be released)", reason: reason)
            }
        }
    }

    /// Why `file` cannot be managed: a name that leaves the cgroup
    /// directory, or a file that is not a limit (``CgroupManagedFiles``).
    static func refusal(for file: String) -> String? {
        if file.isEmpty { return "an empty file name" }
        if file.contains("/") { return "a file name must not contain '/': files are named inside the cgroup" }
        if file == "." || file == ".." || file.contains("..") { return "a file name must not contain '..'" }
        if file.contains("\0") { return "a file name must not contain NUL" }
        return CgroupManagedFiles.refusal(for: file)
    }

    /// Checks that `cgroup` is an absolute path to a cgroup directory and says
    /// which hierarchy it is on.
    public func hierarchy(of cgroup: String) async throws(ReconcileError) -> CgroupHierarchy {
        guard cgroup.hasPrefix("/"), !cgroup.split(separator: "/").contains("..") else {
            throw .scopeUnavailable(scope: cgroup, reason: "a cgroup is named by its absolute directory path, without '..'")
        }
        do {
            return try await backend.hierarchy(of: cgroup)
        } catch where error.errno == .noSuchFileOrDirectory {
            throw .scopeUnavailable(scope: cgroup, reason: "no such cgroup (\(error))")
        } catch where error.errno == .notDirectory {
            throw .scopeUnavailable(scope: cgroup, reason: "not a directory on a cgroup filesystem (\(error))")
        } catch {
            throw .scopeUnavailable(scope: cgroup, reason: "\(error)")
        }
    }

    /// Reads the files a pass involves and computes its ops, writing nothing.
    public func plan(
        in cgroup: String, desired: CgroupDesiredState,
        lastApplied: CgroupLastApplied = .empty, options: CgroupOptions = .default
    ) async throws(ReconcileError) -> CgroupPlan {
        let wanted = try Self.validate(desired)
        try Self.validateReleases(lastApplied, desired: wanted)
        let hierarchy = try await hierarchy(of: cgroup)
        if case .v1(let controllers) = hierarchy {
            for file in wanted.keys.sorted() {
                guard let dot = file.firstIndex(of: "."), file[..<dot] != "cgroup" else { continue }
                let controller = String(file[..<dot])
                if !controllers.contains(controller) {
                    throw .invalidDesired(
                        entry: "cgroup file \(file)",
                        reason: "belongs to the \(controller) controller, not in this v1 hierarchy "
                            + "(\(controllers.joined(separator: ",")))",
                        path: [.key(file)])
                }
            }
        }
        var observed: [String: String] = [:]
        for file in wanted.keys.sorted() {
            do {
                observed[file] = try await backend.read(file, in: cgroup)
            } catch where error.errno == .noSuchFileOrDirectory {
                throw .invalidDesired(
                    entry: "cgroup file \(file)",
                    reason: "\(cgroup) has no such file (is its controller enabled in the parent's cgroup.subtree_control?)",
                    path: [.key(file)])
            } catch {
                throw .observeFailed(resource: "\(cgroup)/\(file)", error: error)
            }
        }
        for file in lastApplied.files.sorted() where wanted[file] == nil {
            do {
                observed[file] = try await backend.read(file, in: cgroup)
            } catch where error.errno == .noSuchFileOrDirectory {
                continue  // the controller went away: nothing left to release
            } catch {
                throw .observeFailed(resource: "\(cgroup)/\(file)", error: error)
            }
        }
        let pageSize = options.pageSize
        let ops = Diff.threeWay(
            desired: wanted.map { CgroupSetting(file: $0.key, value: $0.value) },
            observed: observed.map { CgroupSetting(file: $0.key, value: $0.value) },
            owned: lastApplied.files,
            isSame: { CgroupFileRules.isSame(file: $0.file, desired: $0.value, observed: $1.value, pageSize: pageSize) })
        return CgroupPlan(ops: ops, observed: observed, desired: wanted, hierarchy: hierarchy)
    }

    /// Runs one pass: validate, read, write what differs (best-effort), and
    /// return the report with the ownership record for the next pass.
    ///
    /// - Throws: ``ReconcileError`` only when the pass could not run at all.
    public func reconcile(
        in cgroup: String, desired: CgroupDesiredState,
        lastApplied: CgroupLastApplied = .empty, options: CgroupOptions = .default
    ) async throws(ReconcileError) -> ReconcileReport<CgroupSetting, CgroupLastApplied> {
        let plan = try await plan(in: cgroup, desired: desired, lastApplied: lastApplied, options: options)
        return await apply(plan, lastApplied: lastApplied, in: cgroup, options: options)
    }

    /// Applies a plan: every op attempted, failures collected.
    public func apply(
        _ plan: CgroupPlan, lastApplied: CgroupLastApplied, in cgroup: String,
        options: CgroupOptions = .default
    ) async -> ReconcileReport<CgroupSetting, CgroupLastApplied> {
        let (applied, failed) = await BestEffortApply.run(plan.ops) { op in
            switch op {
            case .create(let setting), .update(let setting, _):
                return setting.value
            case .delete(let setting):
                return CgroupFileRules.defaultValue(of: setting.file).flatMap { value in
                    CgroupFileRules.isSame(file: setting.file, desired: value, observed: setting.value, pageSize: options.pageSize)
                        ? nil : value
                }
            }
        } write: { (setting, value) async throws(KernelError) in
            try await backend.write(setting.file, value: value, in: cgroup)
        }
        var owned = Set<String>()
        let failedFiles = Set(failed.map(\.op.item.file))
        for file in plan.desired.keys where lastApplied.files.contains(file) || !failedFiles.contains(file) {
            owned.insert(file)
        }
        for file in lastApplied.files where plan.desired[file] == nil && failedFiles.contains(file) {
            owned.insert(file)
        }
        return ReconcileReport(
            applied: applied, failed: failed, pending: [], lastApplied: CgroupLastApplied(files: owned),
            strategy: .bestEffort)
    }

    /// Reads every readable interface file of the cgroup, for diagnostics
    /// and `linx show`. Write-only files are left out.
    public func observe(in cgroup: String) async throws(ReconcileError) -> [String: String] {
        _ = try await hierarchy(of: cgroup)
        let files: [String]
        do {
            files = try await backend.files(in: cgroup)
        } catch {
            throw .observeFailed(resource: cgroup, error: error)
        }
        var values: [String: String] = [:]
        for file in files {
            if let value = try? await backend.read(file, in: cgroup) { values[file] = value }
        }
        return values
    }
}
