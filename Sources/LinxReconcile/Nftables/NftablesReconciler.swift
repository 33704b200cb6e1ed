import Synchronization

/// Single-shot declarative reconciliation of one nf_tables table: observe
/// the table and the namespace's generation, diff, and commit the whole
/// change as one transaction that carries that generation.
///
/// The strategy is ``ApplyStrategy/allOrNothing``: the kernel carries out
/// the transaction or refuses it whole. When another writer committed
/// between the observation and the commit, the kernel refuses it with
/// ERESTART; the pass then re-observes and re-plans, at most
/// ``NftablesOptions/maxRetries`` times, and counts it in the report's
/// `retries`. Any other refusal changes nothing: the report names the op
/// the kernel refused with its errno and extended-ack text, and every other
/// op is pending.
///
/// The generation is namespace-wide, so with several tables in one
/// namespace, reconcile them all through one reconciler (one
/// ``NftablesSource``): it knows its own commits, and a plan made before
/// its commit of another table carries the generation that commit left
///, so only a commit by someone else makes the kernel
/// refuse it and counts as a retry. Two reconcilers know nothing of each
/// other's commits: each takes the other's for another writer's.
///
/// Ownership: only the table the scope names is ever touched, and only
/// when it carries the marker comment (``NftablesOptions/marker``) or does
/// not exist yet. Inside our table everything is ours: a rule added there
/// by hand is deleted by the next pass.
public struct NftablesReconciler: Sendable {
    /// The kernel this reconciler acts on.
    public let backend: any NftablesBackend
    private let memo = CanonicalMemo()
    /// Our own commits: a plan carries the generation they moved it to
    /// (see ``NftOwnCommits``). Shared by copies of this reconciler.
    private let ownCommits = NftOwnCommits()

    /// A reconciler acting on `backend`.
    public init(backend: any NftablesBackend) {
        self.backend = backend
    }

    /// Checks `desired` without touching the kernel: names, duplicates,
    /// and chain types and hooks the family has. Rule syntax is the
    /// kernel's to judge (``NftablesBackend/canonicalize(_:as:in:)``).
    public static func validate(_ desired: NftTable?, table: NftTableRef) throws(ReconcileError) {
        guard let desired else { return }
        func refuse(_ entry: String, _ reason: String, at path: DesiredPath) -> ReconcileError {
            .invalidDesired(entry: "nftables table \(table) \(entry)", reason: reason, path: path)
        }
        guard NftDesiredText.isName(table.name) else { throw refuse("", "invalid table name \(NftSyntax.quoted(table.name))", at: []) }
        var chains: Set<String> = []
        for chain in desired.chains {
            // The path only when refusing: building it is an allocation per chain.
            var path: DesiredPath { ["chains", .key(chain.name)] }
            guard NftDesiredText.isName(chain.name) else { throw refuse("chain \(NftSyntax.quoted(chain.name))", "invalid chain name", at: path) }
            guard chains.insert(chain.name).inserted else { throw refuse("chain \(chain.name)", "declared twice", at: path) }
            if let base = chain.base, let reason = Self.hookProblem(base, family: table.family) {
                throw refuse("chain \(chain.name)", reason, at: path)
            }
            for (index, rule) in chain.rules.enumerated() {
                if let problem = NftDesiredText.refusal(of: rule, as: .rule, empty: "empty rule") {
                    throw refuse("chain \(chain.name) rule \(index + 1)", problem, at: path.appending("rules").appending(.index(index)))
                }
            }
        }
        var sets: Set<String> = []
        for set in desired.sets {
            var path: DesiredPath { ["sets", .key(set.name)] }
            guard NftDesiredText.isName(set.name) else { throw refuse("set \(NftSyntax.quoted(set.name))", "invalid set name", at: path) }
            guard sets.insert(set.name).inserted else { throw refuse("set \(set.name)", "declared twice", at: path) }
            if let problem = NftDesiredText.refusal(of: set.type, as: .type, empty: "no type") {
                throw refuse("set \(set.name)", problem, at: path.appending("type"))
            }
            if let dataType = set.dataType, let problem = NftDesiredText.refusal(of: dataType, as: .type, empty: "no data type") {
                throw refuse("set \(set.name)", problem, at: path.appending("map"))
            }
            for (index, flag) in set.flags.enumerated() where !NftDesiredText.isName(flag) {
                throw refuse("set \(set.name)", "invalid flag \(String(reflecting: flag))", at: path.appending("flags").appending(.index(index)))
            }
            for (index, element) in set.elements.enumerated() {
                if let problem = NftDesiredText.refusal(of: element, as: .element, empty: "one element per entry: \(String(reflecting: element))") {
                    throw refuse("set \(set.name)", problem, at: path.appending("elements").appending(.index(index)))
                }
            }
        }
    }

    /// Why `base` cannot exist in `family`, as the kernel answers it
    /// (checked on Linux 6.18: `nat` on `forward` is EOPNOTSUPP); nil when it can.
    public static func hookProblem(_ base: NftBaseChain, family: NftFamily) -> String? {
        // Switches, not sets: every base chain of every pass is checked.
        let hasHook: Bool
        switch (family, base.hook) {
        case (.netdev, _): return "netdev base chains need a device, which Linx does not model"
        case (.ip, .ingress), (.ip6, .ingress), (.bridge, .ingress), (_, .egress): hasHook = false
        case (.arp, let hook): hasHook = hook == .input || hook == .output
        default: hasHook = true
        }
        guard hasHook else { return "family \(family) has no hook \(base.hook)" }
        let ipFamily = family == .ip || family == .ip6 || family == .inet
        switch base.type {
        case .filter: return nil
        case .nat:
            guard ipFamily, base.hook == .prerouting || base.hook == .input || base.hook == .output || base.hook == .postrouting else {
                return "a nat chain hooks prerouting, input, output or postrouting of an ip, ip6 or inet table"
            }
        case .route:
            guard ipFamily, base.hook == .output else {
                return "a route chain hooks output of an ip, ip6 or inet table"
            }
        }
        return nil
    }

    /// Where the object a backend names in a refusal (`chain input rule 2
    /// "..."`, `set allow element "10.0.0.1"`, `chain web`) is in `desired`,
    /// as ``validate(_:table:)`` names its paths.
    static func path(of object: String, in desired: NftTable) -> DesiredPath? {
        let words = object.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true).map(String.init)
        guard words.count >= 2 else { return nil }
        switch words[0] {
        case "chain":
            let chain: DesiredPath = ["chains", .key(words[1])]
            guard words.count >= 3, words[2] == "rule", let number = words.count > 3 ? Int(words[3].prefix { $0.isNumber }) : nil else {
                return chain
            }
            return chain.appending("rules").appending(.index(number - 1))
        case "set", "map":
            let set: DesiredPath = ["sets", .key(words[1])]
            guard words.count > 3, words[2] == "element",
                let index = desired.sets.first(where: { $0.name == words[1] })?.elements.firstIndex(where: { NftSyntax.quoted($0) == words[3] })
            else { return set }
            return set.appending("elements").appending(.index(index))
        default:
            return nil
        }
    }

    /// The desired entry command `index` of a plan that creates the table
    /// (rules in desired order, one element per refusal named as the set's
    /// first) creates, named as ``path(of:in:)`` reads it.
    static func entry(ofCommand index: Int, in commands: [NftCommand]) -> String? {
        guard commands.indices.contains(index) else { return nil }
        switch commands[index] {
        case .addChain(_, let name, _):
            return "chain \(name)"
        case .addRule(_, let chain, let rule, _):
            let number = commands[...index].count { if case .addRule(_, chain, _, _) = $0 { true } else { false } }
            return "chain \(chain) rule \(number) \(NftSyntax.quoted(rule))"
        case .addSet(_, let set):
            return "\(set.kind) \(set.name)"
        case .addElements(_, let set, let elements):
            return elements.count == 1 ? "set \(set) element \(NftSyntax.quoted(elements[0]))" : "set \(set)"
        default:
            return nil
        }
    }

    /// Validates and canonicalises `desired` (memoised: the same desired
    /// table is canonicalised once).
    func canonical(_ desired: NftTable?, scope: NftScope) async throws(ReconcileError) -> NftTable? {
        try Self.validate(desired, table: scope.table)
        return try await canonical(validated: desired, scope: scope)
    }

    /// ``canonical(_:scope:)`` for a desired table that already passed
    /// ``validate(_:table:)`` (a pass validates once).
    private func canonical(validated desired: NftTable?, scope: NftScope) async throws(ReconcileError) -> NftTable? {
        guard let desired else { return nil }
        if let cached = memo.lookup(desired, table: scope.table) { return cached }
        let canonical: NftTable
        do {
            let scratchCommits: [UInt32]
            (canonical, scratchCommits) = try await backend.canonicalizeReportingCommits(desired, as: scope.table, in: scope.netns)
            for from in scratchCommits { ownCommits.record(from: from, to: from &+ 1, table: nil, in: scope.netns) }
        } catch {
            throw .invalidDesired(
                entry: "nftables table \(scope.table)" + (error.object.map { " \($0)" } ?? ""),
                reason: "the kernel refuses it: \(error.error)", path: error.object.flatMap { Self.path(of: $0, in: desired) })
        }
        memo.store(desired, table: scope.table, canonical: canonical)
        return canonical
    }

    /// Observes the table and computes the pass's ops, changing nothing.
    ///
    /// - Throws: ``ReconcileError/invalidDesired(entry:reason:path:)`` for a
    ///   desired table that fails ``validate(_:table:)`` or that the kernel
    ///   refuses; ``ReconcileError/scopeUnavailable(scope:reason:)`` when
    ///   the namespace is gone; ``ReconcileError/observeFailed(resource:error:)``.
    ///
    /// A table that does not exist yet is planned as written (creating it is
    /// the whole plan) and that very transaction is checked by the kernel
    /// without being committed (``NftablesBackend/checkTransaction(_:in:)``)
    /// where the backend can; otherwise, and for a table that exists (whose
    /// rules are compared in the kernel's canonical form), the desired
    /// table is canonicalised first.
    public func plan(
        in scope: NftScope, desired: NftTable?, options: NftablesOptions = .default
    ) async throws(ReconcileError) -> NftPlan {
        try await plan(in: scope, desired: desired, options: options, checked: true)
    }

    /// ``plan(in:desired:options:)``; with `checked: false`, a table that
    /// does not exist yet is planned as written and NOT checked (neither
    /// dry run nor canonicalisation): the plan is ``NftPlan/isUnchecked``
    /// and its commit, all or nothing, is the check. For a caller that
    /// commits it next with ``applyChecking(_:options:)`` (one libnftables
    /// and kernel run instead of two); a plan that is only shown must be
    /// checked. Everything else is planned as ``plan(in:desired:options:)``
    /// plans it.
    public func plan(
        in scope: NftScope, desired: NftTable?, options: NftablesOptions = .default, checked: Bool
    ) async throws(ReconcileError) -> NftPlan {
        try Self.validate(desired, table: scope.table)
        if let desired, memo.lookup(desired, table: scope.table) == nil {
            let observation = try await observe(in: scope)
            if observation.table == nil {
                var plan = NftDiff.plan(desired: desired, observed: observation, scope: scope, options: options)
                plan.desiredIsCanonical = false
                if !checked {
                    plan.isUnchecked = true
                    return plan
                }
                do {
                    if try await backend.checkTransaction(plan.commands, in: scope.netns) { return plan }
                } catch {
                    throw Self.refusal(error, of: plan.commands, creating: desired, as: scope.table)
                }
            }
        }
        let wanted = try await canonical(desired, scope: scope)
        let observation = try await observe(in: scope)
        return NftDiff.plan(desired: wanted, observed: observation, scope: scope, options: options)
    }

    /// The table and the generation, as the kernel has them now.
    public func observe(in scope: NftScope) async throws(ReconcileError) -> NftObservation {
        do {
            return try await backend.observeTable(scope.table, in: scope.netns)
        } catch where error.errno == .noSuchFileOrDirectory {
            throw .scopeUnavailable(scope: scope.netns.description, reason: "cannot reach its nf_tables (\(error))")
        } catch {
            throw .observeFailed(resource: "nftables table \(scope.table)", error: error)
        }
    }

    /// Runs one pass: plan, commit as one transaction, re-plan on ERESTART.
    public func reconcile(
        in scope: NftScope, desired: NftTable?, lastApplied: NftLastApplied = .empty,
        options: NftablesOptions = .default
    ) async throws(ReconcileError) -> ReconcileReport<NftObject, NftLastApplied> {
        try Self.validate(desired, table: scope.table)
        if let desired, memo.lookup(desired, table: scope.table) == nil {
            // Canonicalising checks the desired table in a scratch table, as
            // costly as creating it. A table that does not exist yet is
            // created as written instead (the kernel's parser judges it, all
            // or nothing), and its listing on the next pass, if nobody wrote
            // in between, is the canonical form.
            let observation = try await observe(in: scope)
            let reaches = { [ownCommits] (committed: UInt32) in
                ownCommits.current(from: committed, for: scope.table, in: scope.netns) == observation.generation
            }
            if let learned = memo.learn(desired, table: scope.table, from: observation, reaching: reaches) {
                return await apply(NftDiff.plan(desired: learned, observed: observation, scope: scope, options: options), options: options)
            }
            if observation.table == nil {
                var plan = NftDiff.plan(desired: desired, observed: observation, scope: scope, options: options)
                plan.desiredIsCanonical = false
                let (report, generation, _) = await commit(plan, retries: 0)
                if generation != nil { return report }
                // Refused: say why when the desired table is invalid (it
                // throws); otherwise a stale generation is retried as usual
                // and any other refusal is the report.
                let wanted = try await canonical(validated: desired, scope: scope)
                guard report.failed.first?.error.errno == .restart, options.maxRetries > 0 else { return report }
                let fresh = try await observe(in: scope)
                return await apply(
                    NftDiff.plan(desired: wanted, observed: fresh, scope: scope, options: options), options: options, retries: 1)
            }
        }
        let wanted = try await canonical(validated: desired, scope: scope)
        let observation = try await observe(in: scope)
        return await apply(NftDiff.plan(desired: wanted, observed: observation, scope: scope, options: options), options: options)
    }

    /// The error a transaction creating `desired` as written (`commands`)
    /// was refused with, naming the entry of the refused command: what a
    /// plan's dry run throws, and an unchecked plan's refused commit.
    private static func refusal(
        _ error: NftTransactionError, of commands: [NftCommand], creating desired: NftTable, as table: NftTableRef
    ) -> ReconcileError {
        let object = error.index.flatMap { Self.entry(ofCommand: $0, in: commands) }
        return .invalidDesired(
            entry: "nftables table \(table)" + (object.map { " \($0)" } ?? ""),
            reason: "the kernel refuses it: \(error.error)", path: object.flatMap { Self.path(of: $0, in: desired) })
    }

    /// Commits `plan` like ``apply(_:options:)``; for an
    /// ``NftPlan/isUnchecked`` plan the commit is the check it skipped: a
    /// refusal (nothing committed) throws what the dry run would have
    /// thrown, naming the refused entry. When another writer committed
    /// first (ERESTART, nothing known of the desired table), it is checked
    /// by canonicalising (throws when invalid) and re-planned against the
    /// table as it is now, as ``apply(_:options:)`` does. So it throws only
    /// when nothing was committed; what it returns was carried out or
    /// refused as a report.
    public func applyChecking(_ plan: NftPlan, options: NftablesOptions = .default) async throws(ReconcileError)
        -> ReconcileReport<NftObject, NftLastApplied>
    {
        guard plan.isUnchecked, let desired = plan.desired else { return await apply(plan, options: options) }
        let (report, generation, error) = await commit(plan, retries: 0)
        guard generation == nil, let error else { return report }
        if error.error.errno != .restart {
            throw Self.refusal(error, of: plan.commands, creating: desired, as: plan.scope.table)
        }
        let wanted = try await canonical(validated: desired, scope: plan.scope)
        guard options.maxRetries > 0 else { return report }
        let fresh = try await observe(in: plan.scope)
        return await apply(NftDiff.plan(desired: wanted, observed: fresh, scope: plan.scope, options: options), options: options, retries: 1)
    }

    /// Commits a plan as one transaction carrying its generation. When
    /// another writer committed since the plan's observation (ERESTART),
    /// re-observes and re-plans the same desired table, at most
    /// `options.maxRetries` times; a re-observation that fails ends the
    /// pass with the refused report.
    public func apply(_ plan: NftPlan, options: NftablesOptions = .default) async -> ReconcileReport<NftObject, NftLastApplied> {
        await apply(plan, options: options, retries: 0)
    }

    private func apply(_ plan: NftPlan, options: NftablesOptions, retries: Int) async -> ReconcileReport<NftObject, NftLastApplied> {
        var plan = plan
        var retries = retries
        while true {
            let (report, _, _) = await commit(plan, retries: retries)
            guard let failure = report.failed.first, failure.error.errno == .restart, retries < options.maxRetries,
                let observation = try? await observe(in: plan.scope)
            else {
                return report
            }
            retries += 1
            var desired = plan.desired
            if !plan.desiredIsCanonical {
                // Planned as written for a table that did not exist; someone
                // wrote since, so compare in the canonical form.
                guard let wanted = try? await canonical(desired, scope: plan.scope) else { return report }
                desired = wanted
            }
            plan = NftDiff.plan(desired: desired, observed: observation, scope: plan.scope, options: options)
        }
    }

    /// One attempt at committing `plan`, with the generation after the
    /// commit when the kernel carried one out (nil: nothing committed).
    private func commit(_ plan: NftPlan, retries: Int) async
        -> (ReconcileReport<NftObject, NftLastApplied>, UInt32?, NftTransactionError?)
    {
        let owned = NftLastApplied(ownsTable: plan.observation.table.map { _ in plan.refusal == nil } ?? false)
        if let refusal = plan.refusal, let first = plan.ops.first {
            return (ReconcileReport(
                failed: [FailedOp(first, error: refusal)], pending: Array(plan.ops.dropFirst()),
                lastApplied: .empty, strategy: .allOrNothing, retries: retries), nil, nil)
        }
        guard !plan.commands.isEmpty else {
            return (ReconcileReport(
                applied: plan.ops, lastApplied: NftLastApplied(ownsTable: plan.leavesOwnedTable),
                strategy: .allOrNothing, retries: retries), nil, nil)
        }
        let (netns, table) = (plan.scope.netns, plan.scope.table)
        // The generation the plan's observation is still exact at: moved on
        // along our own commits of other tables (NftOwnCommits), which take
        // turns so that each is recorded before the next picks its own.
        let attempt = await ownCommits.commit(in: netns) { () async -> Result<UInt32, NftTransactionError> in
            let expected = ownCommits.current(from: plan.observation.generation, for: table, in: netns)
            do throws(NftTransactionError) {
                let generation = try await backend.commit(plan.commands, expecting: expected, in: netns)
                ownCommits.record(from: expected, to: generation, table: table, in: netns)
                return .success(generation)
            } catch {
                return .failure(error)
            }
        }
        do throws(NftTransactionError) {
            let generation = try attempt.get()
            if !plan.desiredIsCanonical, let desired = plan.desired {
                memo.committed(desired, table: plan.scope.table, at: generation)
            }
            return (ReconcileReport(
                applied: plan.ops, lastApplied: NftLastApplied(ownsTable: plan.leavesOwnedTable),
                strategy: .allOrNothing, retries: retries), generation, nil)
        } catch {
            let failing = error.index.flatMap { plan.opOfCommand.indices.contains($0) ? plan.opOfCommand[$0] : nil } ?? 0
            var pending = plan.ops
            let op = pending.remove(at: failing)
            var kernelError = error.error
            if let object = error.object, kernelError.message == nil { kernelError.message = object }
            return (ReconcileReport(
                failed: [FailedOp(op, error: kernelError)], pending: pending,
                lastApplied: owned, strategy: .allOrNothing, retries: retries), nil, error)
        }
    }
}

/// The last desired table canonicalised, per table: a loop re-checks the
/// same desired state every pass, and canonicalising asks the kernel. Or,
/// for a table the reconciler created as written, the generation its commit
/// left: the table listed at that generation is exactly what the kernel
/// made of the desired table, its canonical form.
private final class CanonicalMemo: Sendable {
    private enum Entry {
        case canonical(NftTable)
        case committed(generation: UInt32)
    }

    private let entries = Mutex<[NftTableRef: (desired: NftTable, entry: Entry)]>([:])

    func lookup(_ desired: NftTable, table: NftTableRef) -> NftTable? {
        entries.withLock { entries in
            guard let found = entries[table], found.desired == desired, case .canonical(let canonical) = found.entry else { return nil }
            return canonical
        }
    }

    func store(_ desired: NftTable, table: NftTableRef, canonical: NftTable) {
        entries.withLock { $0[table] = (desired, .canonical(canonical)) }
    }

    func committed(_ desired: NftTable, table: NftTableRef, at generation: UInt32) {
        entries.withLock { $0[table] = (desired, .committed(generation: generation)) }
    }

    /// The canonical form of `desired` read from `observation`, when it is
    /// the listing of the table this reconciler created from `desired`, at
    /// the generation that commit left (`reaching` it: or one only our own
    /// commits of other tables moved it to), and holds as many chains, rules,
    /// sets and elements; then it is remembered. Nil otherwise.
    func learn(
        _ desired: NftTable, table: NftTableRef, from observation: NftObservation, reaching: (UInt32) -> Bool
    ) -> NftTable? {
        entries.withLock { entries in
            guard let found = entries[table], found.desired == desired, case .committed(let generation) = found.entry,
                reaching(generation), let listed = observation.table?.content,
                let canonical = Self.match(desired, listed)
            else { return nil }
            entries[table] = (desired, .canonical(canonical))
            return canonical
        }
    }

    private static func match(_ desired: NftTable, _ listed: NftTable) -> NftTable? {
        guard listed.chains.count == desired.chains.count, listed.sets.count == desired.sets.count else { return nil }
        for (want, have) in zip(desired.chains, listed.chains) where want.name != have.name || want.rules.count != have.rules.count {
            return nil
        }
        var sets: [NftSet] = []
        for want in desired.sets {
            guard let have = listed.sets.first(where: { $0.name == want.name }), have.elements.count == want.elements.count else { return nil }
            sets.append(have)
        }
        return NftTable(chains: listed.chains, sets: sets)
    }
}

extension String {
    /// Whitespace Characters trimmed from both ends.
    package var trimmingWhitespace: String {
        // Most text is ASCII with nothing to trim: no copy then. In ASCII a
        // Character is one byte (or CR LF, whose bytes are whitespace), and
        // the whitespace bytes are tab, LF, VT, FF, CR and space.
        func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
        if let first = utf8.first, let last = utf8.last, !isWhitespace(first), !isWhitespace(last),
            utf8.allSatisfy({ $0 < 0x80 })
        {
            return self
        }
        return trimmingWhitespaceCharacters
    }

    /// ``trimmingWhitespace``, Character by Character.
    package var trimmingWhitespaceCharacters: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
