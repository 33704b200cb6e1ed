/// The pure nf_tables diff: desired table (already canonical) against the
/// observed one, as ops plus the one transaction that carries them out.
///
/// Transaction order: rule deletes, chain deletes, set deletes, then the
/// table, set declarations, element deletes and adds, chains, rule adds, so
/// that nothing is deleted while a rule still refers to it and every rule
/// added finds the chains and sets it refers to.
public enum NftDiff {
    /// Plans `desired` (nil: the table should not exist) against `observed`.
    /// A table that exists without `options.marker` is not ours: the plan
    /// holds one refused create and no commands.
    public static func plan(
        desired: NftTable?, observed: NftObservation, scope: NftScope, options: NftablesOptions
    ) -> NftPlan {
        plan(desired: desired, observed: observed, scope: scope, options: options, settlingHeld: true)
    }

    /// ``plan(desired:observed:scope:options:)``; `settlingHeld: false`
    /// always runs the full diff, even on a table that ``holds(_:_:)`` the
    /// desired one (the reference the shortcut is tested against).
    static func plan(
        desired: NftTable?, observed: NftObservation, scope: NftScope, options: NftablesOptions, settlingHeld: Bool
    ) -> NftPlan {
        var builder = Builder(ref: scope.table, settlesHeld: settlingHeld)
        var refusal: KernelError?
        let ref = scope.table
        let flags = options.lifetime.flags
        switch (desired, observed.table) {
        case (nil, nil):
            break
        case (nil, let table?):
            if table.comment == options.marker {
                builder.add(.delete(.table(ref, flags: table.flags)), .deleteTable(ref))
            }
        case (let desired?, nil):
            builder.createAll(desired, flags: flags, comment: options.marker, op: .create(.table(ref, flags: flags)))
        case (let desired?, let table?):
            if table.comment != options.marker {
                refusal = KernelError(
                    .fileExists,
                    "table \(ref) exists and is not Linx's (its comment is not \(NftSyntax.quoted(options.marker))); it is left alone")
                builder.ops.append(.create(.table(ref, flags: flags)))
            } else if table.flags.intersection([.owner, .persist]) != flags {
                // Flags cannot change in place: re-create, atomically.
                builder.commands.append(.deleteTable(ref))
                builder.opOfCommand.append(0)
                builder.createAll(
                    desired, flags: flags, comment: options.marker,
                    op: .update(.table(ref, flags: flags), previous: .table(ref, flags: table.flags)))
            } else {
                builder.converge(desired, from: table)
            }
        }
        return NftPlan(
            scope: scope, observation: observed, desired: desired, ops: builder.ops,
            commands: builder.commands, opOfCommand: builder.opOfCommand, refusal: refusal)
    }

    /// Matches `observed` against `desired` (longest common subsequence
    /// after trimming the common prefix and suffix): for each desired rule,
    /// the index of the observed rule it keeps, or nil when it must be added.
    static func match(desired: [String], observed: [String]) -> [Int?] {
        var result = [Int?](repeating: nil, count: desired.count)
        var prefix = 0
        while prefix < desired.count, prefix < observed.count, desired[prefix] == observed[prefix] {
            result[prefix] = prefix
            prefix += 1
        }
        var suffix = 0
        while suffix < desired.count - prefix, suffix < observed.count - prefix,
            desired[desired.count - 1 - suffix] == observed[observed.count - 1 - suffix]
        {
            result[desired.count - 1 - suffix] = observed.count - 1 - suffix
            suffix += 1
        }
        let d = Array(desired[prefix..<(desired.count - suffix)])
        let o = Array(observed[prefix..<(observed.count - suffix)])
        guard !d.isEmpty, !o.isEmpty else { return result }
        // lengths[i][j]: LCS of d[i...] and o[j...].
        var lengths = [[Int32]](repeating: [Int32](repeating: 0, count: o.count + 1), count: d.count + 1)
        for i in stride(from: d.count - 1, through: 0, by: -1) {
            for j in stride(from: o.count - 1, through: 0, by: -1) {
                lengths[i][j] = d[i] == o[j] ? lengths[i + 1][j + 1] + 1 : max(lengths[i + 1][j], lengths[i][j + 1])
            }
        }
        var i = 0, j = 0
        while i < d.count, j < o.count {
            if d[i] == o[j] {
                result[prefix + i] = prefix + j
                i += 1
                j += 1
            } else if lengths[i + 1][j] >= lengths[i][j + 1] {
                i += 1
            } else {
                j += 1
            }
        }
        return result
    }

    /// True when `table` holds exactly `desired`, so that converging it
    /// plans nothing: as many chains, each desired chain (names distinct)
    /// found with its base and its rules in order; as many sets, each
    /// desired set (names distinct) found with its declaration and the
    /// same elements. False may still plan nothing (elements in another
    /// order): the full diff decides then.
    static func holds(_ desired: NftTable, _ table: NftObservedTable) -> Bool {
        guard desired.chains.count == table.chains.count, desired.sets.count == table.sets.count else { return false }
        for (index, chain) in desired.chains.enumerated() {
            // Distinct desired names, each among the observed ones, and as
            // many of both: the observed names are exactly the desired ones.
            if desired.chains[..<index].contains(where: { $0.name == chain.name }) { return false }
            guard let old = table.chains.first(where: { $0.name == chain.name }), old.base == chain.base,
                old.rules.count == chain.rules.count
            else { return false }
            for (rule, observed) in zip(chain.rules, old.rules) where rule != observed.text { return false }
        }
        for (index, set) in desired.sets.enumerated() {
            if desired.sets[..<index].contains(where: { $0.name == set.name }) { return false }
            guard let old = table.sets.first(where: { $0.name == set.name }), old.type == set.type,
                old.dataType == set.dataType, old.flags == set.flags, old.elements == set.elements
            else { return false }
        }
        return true
    }

    private struct Builder {
        let ref: NftTableRef
        let settlesHeld: Bool
        var ops: [ReconcileOp<NftObject>] = []
        var commands: [NftCommand] = []
        var opOfCommand: [Int] = []

        mutating func add(_ op: ReconcileOp<NftObject>, _ command: NftCommand?) {
            if let command {
                commands.append(command)
                opOfCommand.append(ops.count)
            }
            ops.append(op)
        }

        /// Every element of `elements` as its own op, all in one command.
        mutating func addElements(_ elements: [String], to set: String, delete: Bool) {
            guard !elements.isEmpty else { return }
            commands.append(delete ? .deleteElements(ref, set: set, elements) : .addElements(ref, set: set, elements))
            opOfCommand.append(ops.count)
            for element in elements {
                let object = NftObject.element(set: set, value: element)
                ops.append(delete ? .delete(object) : .create(object))
            }
        }

        mutating func createAll(_ desired: NftTable, flags: NftTableFlags, comment: String, op: ReconcileOp<NftObject>) {
            add(op, .addTable(ref, flags: flags, comment: comment))
            for set in desired.sets {
                add(.create(.set(set.declaration)), .addSet(ref, set.declaration))
                addElements(set.elements, to: set.name, delete: false)
            }
            for chain in desired.chains {
                add(.create(.chain(chain.name, base: chain.base)), .addChain(ref, name: chain.name, base: chain.base))
            }
            for chain in desired.chains {
                for rule in chain.rules {
                    add(.create(.rule(chain: chain.name, text: rule, handle: nil)), .addRule(ref, chain: chain.name, rule: rule, before: nil))
                }
            }
        }

        mutating func converge(_ desired: NftTable, from table: NftObservedTable) {
            // Most passes find the table as desired: settled without the
            // maps, sets and rule matching below (which plan nothing then).
            if settlesHeld, NftDiff.holds(desired, table) { return }
            let observedSets = Dictionary(table.sets.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            let desiredSets = Dictionary(desired.sets.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            // Sets whose declaration changes are re-created; rules that
            // refer to them must go first and come back after.
            let recreated = Set(desired.sets.filter { set in
                observedSets[set.name].map { $0.declaration != set.declaration } ?? false
            }.map(\.name))
            let removedSets = table.sets.filter { desiredSets[$0.name] == nil }
            let observedChains = Dictionary(table.chains.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            let desiredNames = Set(desired.chains.map(\.name))
            func replacesChain(_ chain: NftChain) -> Bool {
                guard let old = observedChains[chain.name] else { return false }
                guard let new = chain.base, let was = old.base else { return (chain.base == nil) != (old.base == nil) }
                return (new.type, new.hook, new.priority) != (was.type, was.hook, was.priority)
            }
            func refersToRecreatedSet(_ rule: String) -> Bool {
                recreated.contains { rule.contains("@\($0)") }
            }

            // Rule plan per kept chain. A rule that only changes place is
            // deleted and inserted again (the kernel cannot move a rule): one
            // op, an update whose previous carries the old handle.
            var inserts: [(chain: String, rule: String, before: UInt64?, move: Int?)] = []
            for chain in desired.chains {
                guard let old = observedChains[chain.name], !replacesChain(chain) else { continue }
                let keepable = old.rules.map { refersToRecreatedSet($0.text) ? "\u{0}" : $0.text }
                let matches = NftDiff.match(desired: chain.rules, observed: keepable)
                let kept = Set(matches.compactMap { $0 })
                var added: [String: Int] = [:]
                for (index, rule) in chain.rules.enumerated() where matches[index] == nil { added[rule, default: 0] += 1 }
                var moves: [String: [Int]] = [:]
                for (index, rule) in old.rules.enumerated() where !kept.contains(index) {
                    let previous = NftObject.rule(chain: chain.name, text: rule.text, handle: rule.handle)
                    if keepable[index] == rule.text, let count = added[rule.text], count > 0 {
                        added[rule.text] = count - 1
                        moves[rule.text, default: []].append(ops.count)
                        add(.update(.rule(chain: chain.name, text: rule.text, handle: nil), previous: previous),
                            .deleteRule(ref, chain: chain.name, handle: rule.handle))
                    } else {
                        add(.delete(previous), .deleteRule(ref, chain: chain.name, handle: rule.handle))
                    }
                }
                var nextKept: UInt64? = nil
                var pending: [(String, String, UInt64?, Int?)] = []
                for (index, rule) in chain.rules.enumerated().reversed() {
                    if let match = matches[index] {
                        nextKept = old.rules[match].handle
                    } else {
                        pending.append((chain.name, rule, nextKept, moves[rule]?.popLast()))
                    }
                }
                inserts += pending.reversed()
            }
            // Chains that go away: their rules first (older kernels refuse
            // to delete a chain that still has rules), then the chains.
            var chainDeletes: [NftObservedChain] = []
            for old in table.chains {
                let replaced = desired.chains.first { $0.name == old.name }.map(replacesChain) ?? false
                guard !desiredNames.contains(old.name) || replaced else { continue }
                for rule in old.rules {
                    add(.delete(.rule(chain: old.name, text: rule.text, handle: rule.handle)),
                        .deleteRule(ref, chain: old.name, handle: rule.handle))
                }
                chainDeletes.append(old)
            }
            for old in chainDeletes where !desiredNames.contains(old.name) {
                add(.delete(.chain(old.name, base: old.base)), .deleteChain(ref, name: old.name))
            }
            let replacedChains = desired.chains.filter(replacesChain)
            for chain in replacedChains {
                let old = observedChains[chain.name]!
                add(.update(.chain(chain.name, base: chain.base), previous: .chain(old.name, base: old.base)),
                    .deleteChain(ref, name: chain.name))
            }
            for set in removedSets {
                for element in set.elements { ops.append(.delete(.element(set: set.name, value: element))) }
                add(.delete(.set(set.declaration)), .deleteSet(ref, name: set.name))
            }
            for set in desired.sets where recreated.contains(set.name) {
                let old = observedSets[set.name]!
                add(.update(.set(set.declaration), previous: .set(old.declaration)), .deleteSet(ref, name: set.name))
                commands.append(.addSet(ref, set.declaration))
                opOfCommand.append(ops.count - 1)
                addElements(set.elements, to: set.name, delete: false)
            }
            for set in desired.sets where !recreated.contains(set.name) {
                guard let old = observedSets[set.name] else {
                    add(.create(.set(set.declaration)), .addSet(ref, set.declaration))
                    addElements(set.elements, to: set.name, delete: false)
                    continue
                }
                let wanted = Set(set.elements), have = Set(old.elements)
                addElements(old.elements.filter { !wanted.contains($0) }, to: set.name, delete: true)
                addElements(set.elements.filter { !have.contains($0) }, to: set.name, delete: false)
            }
            for chain in desired.chains {
                if let old = observedChains[chain.name], !replacesChain(chain) {
                    if old.base != chain.base {
                        add(.update(.chain(chain.name, base: chain.base), previous: .chain(old.name, base: old.base)),
                            .addChain(ref, name: chain.name, base: chain.base))
                    }
                    continue
                }
                if replacesChain(chain) {
                    commands.append(.addChain(ref, name: chain.name, base: chain.base))
                    opOfCommand.append(ops.firstIndex(of: .update(.chain(chain.name, base: chain.base), previous: .chain(chain.name, base: observedChains[chain.name]!.base)))!)
                } else {
                    add(.create(.chain(chain.name, base: chain.base)), .addChain(ref, name: chain.name, base: chain.base))
                }
            }
            for chain in desired.chains where observedChains[chain.name] == nil || replacesChain(chain) {
                for rule in chain.rules {
                    add(.create(.rule(chain: chain.name, text: rule, handle: nil)), .addRule(ref, chain: chain.name, rule: rule, before: nil))
                }
            }
            for insert in inserts {
                let command = NftCommand.addRule(ref, chain: insert.chain, rule: insert.rule, before: insert.before)
                if let move = insert.move {
                    commands.append(command)
                    opOfCommand.append(move)
                } else {
                    add(.create(.rule(chain: insert.chain, text: insert.rule, handle: nil)), command)
                }
            }
        }
    }
}
