/// Single-shot declarative reconciliation of sysctls in one network
/// namespace: read the desired and owned keys, write what differs, release
/// what is no longer desired.
///
/// Ownership is three-way (``SysctlLastApplied``): a key is only ever
/// written back on release if this reconciler owned it. Keys are
/// independent, so a pass is best-effort: every op is attempted, failures
/// are collected, nothing is pending.
///
/// Invalid desired states are refused before anything is written: a key
/// that is malformed or escapes /proc/sys, a key that does not exist in the
/// scope, the same key written twice with different values, a value the
/// kernel would not store as given (``SysctlValueRules``), and a key
/// outside `net.` when the scope is not the current netns (it would change
/// the whole host) unless ``SysctlOptions/allowHostWideKeys`` is set, and
/// an `ip_unprivileged_port_start` above the low end of the desired
/// `ip_local_port_range` (the kernel refuses that pair in either order).
/// Keys owned in `lastApplied` that a pass would release pass the same
/// guards.
public struct SysctlReconciler: Sendable {
    /// The kernel this reconciler acts on.
    public let backend: any SysctlBackend

    /// A reconciler acting on `backend`.
    public init(backend: any SysctlBackend) {
        self.backend = backend
    }

    /// Parses and checks `desired` without touching the kernel: key -> text
    /// to write. Errors name the key as written.
    public static func validate(
        _ desired: SysctlDesiredState, scope: NetnsScope, options: SysctlOptions = .default
    ) throws(ReconcileError) -> [SysctlKey: String] {
        var result: [SysctlKey: (text: String, value: SysctlValue)] = [:]
        // Sorted, so that the same invalid state always names the same entry.
        for (text, value) in desired.values.sorted(by: { $0.key < $1.key }) {
            let key: SysctlKey
            do {
                key = try SysctlKey(text)
            } catch {
                throw .invalidDesired(entry: "sysctl \"\(text)\"", reason: error.reason, path: [.key(text)])
            }
            if let reason = hostWideRefusal(key, scope: scope, options: options) {
                throw .invalidDesired(entry: "sysctl \(text)", reason: reason, path: [.key(text)])
            }
            if let reason = SysctlValueRules.refusal(for: value.text) {
                throw .invalidDesired(entry: "sysctl \(text)", reason: "\(String(reflecting: value.text)) \(reason)", path: [.key(text)])
            }
            if let earlier = result[key] {
                if SysctlValue.normalized(earlier.value.text) == SysctlValue.normalized(value.text) { continue }
                throw .invalidDesired(
                    entry: "sysctl \(text)",
                    reason: "the same key as \(earlier.text) with a different value (\(value) vs \(earlier.value))",
                    path: [.key(text)])
            }
            result[key] = (text, value)
        }
        let wanted = result.mapValues(\.value.text)
        try SysctlCoupling.check(wanted)
        return wanted
    }

    /// Why `key` may not be written in `scope`: a key outside `net.` is not
    /// isolated by network namespaces, so writing it from another namespace
    /// changes the whole host. The same guard holds for a desired key and for
    /// an owned key being released (whose original would be written back).
    static func hostWideRefusal(_ key: SysctlKey, scope: NetnsScope, options: SysctlOptions) -> String? {
        guard !key.isNetworkNamespaced && scope != .current && !options.allowHostWideKeys else { return nil }
        return "\(key) is not isolated by network namespaces: writing it from \(scope) "
            + "would change the whole host (set allowHostWideKeys to allow it)"
    }

    /// Checks the keys `lastApplied` owns that a pass would release with
    /// the guards a desired key passes: a record naming a host-wide key
    /// (from another scope, or edited by hand) must not make a namespaced
    /// pass write the host's value, and an original the kernel could not
    /// store as given is not written back.
    static func validateReleases(
        _ lastApplied: SysctlLastApplied, desired: [SysctlKey: String], scope: NetnsScope, options: SysctlOptions
    ) throws(ReconcileError) {
        for (key, original) in lastApplied.owned.sorted(by: { $0.key < $1.key }) where desired[key] == nil {
            let entry = "sysctl \(key) (owned, to be released)"
            if let reason = hostWideRefusal(key, scope: scope, options: options) {
                throw .invalidDesired(entry: entry, reason: reason)
            }
            if options.revertOnRelease, let reason = SysctlValueRules.refusal(for: original) {
                throw .invalidDesired(entry: entry, reason: "its original value \(String(reflecting: original)) \(reason)")
            }
        }
    }

    /// Reads the keys a pass involves and computes its ops, writing nothing.
    ///
    /// - Throws: ``ReconcileError/invalidDesired(entry:reason:path:)`` (see
    ///   ``validate(_:scope:options:)``, plus a desired key that does not
    ///   exist), ``ReconcileError/scopeUnavailable(scope:reason:)`` when the
    ///   namespace is gone, ``ReconcileError/observeFailed(resource:error:)``
    ///   when a key cannot be read.
    public func plan(
        in scope: NetnsScope, desired: SysctlDesiredState,
        lastApplied: SysctlLastApplied = .empty, options: SysctlOptions = .default
    ) async throws(ReconcileError) -> SysctlPlan {
        let wanted = try Self.validate(desired, scope: scope, options: options)
        try Self.validateReleases(lastApplied, desired: wanted, scope: scope, options: options)
        var observed: [SysctlKey: String] = [:]
        for key in wanted.keys.sorted() {
            do {
                observed[key] = try await backend.read(key, in: scope)
            } catch where error.errno == .noSuchFileOrDirectory {
                try await checkScope(scope)
                throw .invalidDesired(
                    entry: "sysctl \(key)", reason: "no such key in \(scope)", path: Self.path(of: key, in: desired))
            } catch {
                throw .observeFailed(resource: "sysctl \(key)", error: error)
            }
            if let held = observed[key], let text = wanted[key], let reason = SysctlValueRules.refusal(for: text, observed: held) {
                throw .invalidDesired(
                    entry: "sysctl \(key)", reason: "\(String(reflecting: text)): \(reason)", path: Self.path(of: key, in: desired))
            }
        }
        for key in lastApplied.owned.keys.sorted() where wanted[key] == nil {
            do {
                observed[key] = try await backend.read(key, in: scope)
            } catch where error.errno == .noSuchFileOrDirectory {
                // Vanished with its interface: nothing left to release.
                continue
            } catch {
                throw .observeFailed(resource: "sysctl \(key)", error: error)
            }
        }
        let ops = Diff.threeWay(
            desired: wanted.map { SysctlSetting(key: $0.key, value: $0.value) },
            observed: observed.map { SysctlSetting(key: $0.key, value: $0.value) },
            owned: Set(lastApplied.owned.keys),
            isSame: { SysctlValue.normalized($0.value) == SysctlValue.normalized($1.value) })
        return SysctlPlan(ops: ops, observed: observed, desired: wanted)
    }

    /// Where `key` was written in `desired` (dotted or slashed, as given).
    static func path(of key: SysctlKey, in desired: SysctlDesiredState) -> DesiredPath {
        let written = desired.values.keys.sorted().first { (try? SysctlKey($0)) == key }
        return [.key(written ?? key.description)]
    }

    /// An ENOENT can mean the key or the whole namespace is missing: a
    /// namespace always has `net`, so listing it tells the two apart.
    private func checkScope(_ scope: NetnsScope) async throws(ReconcileError) {
        do {
            _ = try await backend.keys(under: SysctlKey(components: ["net"]), in: scope)
        } catch {
            throw .scopeUnavailable(scope: scope.description, reason: "cannot read its sysctls (\(error))")
        }
    }

    /// Runs one pass: validate, read, write what differs (best-effort), and
    /// return the report with the ownership record for the next pass.
    public func reconcile(
        in scope: NetnsScope, desired: SysctlDesiredState,
        lastApplied: SysctlLastApplied = .empty, options: SysctlOptions = .default
    ) async throws(ReconcileError) -> ReconcileReport<SysctlSetting, SysctlLastApplied> {
        let plan = try await plan(in: scope, desired: desired, lastApplied: lastApplied, options: options)
        return await apply(plan, lastApplied: lastApplied, in: scope, options: options)
    }

    /// Applies a plan: every op attempted, failures collected. The plan's
    /// order is kept, except that keys the kernel checks against each other
    /// are written in the order it accepts (the unprivileged port start and
    /// the local port range).
    ///
    /// A release (`delete`) writes back the original value when
    /// ``SysctlOptions/revertOnRelease`` is set and the kernel no longer
    /// holds it; otherwise it only drops ownership. It also only drops
    /// ownership when the kernel could never hold the original next to the
    /// value this pass leaves in its partner key (an original port range
    /// below the desired unprivileged port start, or the reverse): that
    /// write would fail on every pass and the release would never finish.
    public func apply(
        _ plan: SysctlPlan, lastApplied: SysctlLastApplied, in scope: NetnsScope,
        options: SysctlOptions = .default
    ) async -> ReconcileReport<SysctlSetting, SysctlLastApplied> {
        let planned = { (op: ReconcileOp<SysctlSetting>) -> String? in
            switch op {
            case .create(let setting), .update(let setting, _):
                return setting.value
            case .delete(let setting):
                guard options.revertOnRelease, let original = lastApplied.owned[setting.key] else { return nil }
                return SysctlValue.normalized(original) == SysctlValue.normalized(setting.value) ? nil : original
            }
        }
        let impossible = SysctlCoupling.impossibleReverts(plan.ops, observed: plan.observed, value: planned)
        let value = { (op: ReconcileOp<SysctlSetting>) -> String? in
            op.isDelete && impossible.contains(op.item.key) ? nil : planned(op)
        }
        let ops = SysctlCoupling.ordered(plan.ops, observed: plan.observed, value: value)
        let (applied, failed) = await BestEffortApply.run(ops, value: value) { (setting, value) async throws(KernelError) in
            try await backend.write(setting.key, value: value, in: scope)
        }
        return ReconcileReport(
            applied: applied, failed: failed, pending: [],
            lastApplied: Self.ownership(plan: plan, lastApplied: lastApplied, failed: failed),
            strategy: .bestEffort)
    }

    /// Desired keys the kernel now holds (keeping the first original seen),
    /// plus released keys whose release failed.
    static func ownership(
        plan: SysctlPlan, lastApplied: SysctlLastApplied, failed: [FailedOp<SysctlSetting>]
    ) -> SysctlLastApplied {
        let failedKeys = Set(failed.map(\.op.item.key))
        var owned: [SysctlKey: String] = [:]
        for key in plan.desired.keys {
            if let original = lastApplied.owned[key] {
                owned[key] = original
            } else if !failedKeys.contains(key), let before = plan.observed[key] {
                owned[key] = before
            }
        }
        for (key, original) in lastApplied.owned where plan.desired[key] == nil {
            if failedKeys.contains(key) && plan.observed[key] != nil { owned[key] = original }
        }
        return SysctlLastApplied(owned: owned)
    }

    /// Reads every key under `prefix` (default `net`) that can be read, for
    /// diagnostics and `linx show`. Write-only and unreadable keys are left out.
    public func observe(
        in scope: NetnsScope, under prefix: SysctlKey = SysctlKey(components: ["net"])
    ) async throws(ReconcileError) -> [SysctlKey: String] {
        let keys: [SysctlKey]
        do {
            keys = try await backend.keys(under: prefix, in: scope)
        } catch where error.errno == .noSuchFileOrDirectory {
            throw .scopeUnavailable(scope: scope.description, reason: "cannot read its sysctls (\(error))")
        } catch {
            throw .observeFailed(resource: "sysctl \(prefix)", error: error)
        }
        var values: [SysctlKey: String] = [:]
        for key in keys {
            if let value = try? await backend.read(key, in: scope) { values[key] = value }
        }
        return values
    }
}
