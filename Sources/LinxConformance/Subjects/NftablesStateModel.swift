import LinxKernelSim
import LinxReconcile

/// The nf_tables subjects' shared world (simulated and real kernel): the
/// table under test, the pools desired states, drift and foreign writers
/// draw from, and how a table reads as snapshot entries.
///
/// Entries are strings, each prefixed with the table it belongs to
/// (`inet linx: rule input tcp dport 22 accept`): `table` (its comment and
/// flags), `chain NAME` (hook or `regular`), `rules NAME` (the chain's rules
/// in order, so order is checked), `rule NAME TEXT`, `set NAME` (its
/// declaration) and `element NAME VALUE`. Rules are written in pools in
/// the form users type and compared in the form nft 1.0.6 lists them: each
/// pool line holds both, observed on this machine's kernel (the kernel
/// subject checks them again on every run).
///
/// Within one chain a rule text occurs at most once (drift only adds rules
/// from its own pool), so `rule NAME TEXT` identifies one rule.
package enum NftablesStateModel {
    /// The table under test.
    package static let table = NftTableRef(.inet, "linx")
    /// The marker the Source's options use (the default).
    package static let marker = NftablesOptions.default.marker

    /// A rule as written and as nft lists it, with what it needs in the table.
    package struct RuleSpec: Sendable {
        package var written: String
        package var canonical: String
        package var chain: String?
        package var set: String?

        init(_ written: String, _ canonical: String? = nil, jumps chain: String? = nil, uses set: String? = nil) {
            self.written = written
            self.canonical = canonical ?? written
            self.chain = chain
            self.set = set
        }
    }

    /// A chain desired states may hold: a fixed hook per name (only the
    /// policy is drawn), and the rules it may hold.
    package struct ChainSpec: Sendable {
        package var name: String
        package var hook: NftHook?
        package var rules: [RuleSpec]
    }

    /// A set desired states may hold, with the elements it may hold.
    package struct SetSpec: Sendable {
        package var name: String
        package var type: String
        package var elements: [String]
    }

    package static let chains: [ChainSpec] = [
        ChainSpec(name: "input", hook: .input, rules: [
            RuleSpec("tcp dport {443,80} accept", "tcp dport { 80, 443 } accept"),
            RuleSpec("ct state related,established accept", "ct state established,related accept"),
            RuleSpec("tcp dport ssh accept", "tcp dport 22 accept"),
            RuleSpec("meta iifname \"lo\" accept", "iifname \"lo\" accept"),
            RuleSpec("ip saddr 10.0.0.1/8 drop", "ip saddr 10.0.0.0/8 drop"),
            RuleSpec("ip protocol 6 tcp dport 8080 accept", "ip protocol tcp tcp dport 8080 accept"),
            RuleSpec("tcp dport == 9090 counter drop", "tcp dport 9090 counter drop"),
            RuleSpec("ip saddr @allow accept", uses: "allow"),
            RuleSpec("tcp dport @ports accept", uses: "ports"),
            RuleSpec("jump web", jumps: "web"),
        ]),
        ChainSpec(name: "forward", hook: .forward, rules: [
            RuleSpec("ct state invalid drop"),
            RuleSpec("iifname eth0 oifname eth1 accept", "iifname \"eth0\" oifname \"eth1\" accept"),
            RuleSpec("ip daddr {10.9.0.2, 10.9.0.1} drop", "ip daddr { 10.9.0.1, 10.9.0.2 } drop"),
            RuleSpec("jump ssh", jumps: "ssh"),
        ]),
        ChainSpec(name: "output", hook: .output, rules: [
            RuleSpec("udp dport 53 accept"),
            RuleSpec("meta l4proto 17 accept", "meta l4proto udp accept"),
            RuleSpec("tcp dport https accept", "tcp dport 443 accept"),
        ]),
        ChainSpec(name: "web", hook: nil, rules: [
            RuleSpec("tcp dport 80 accept"),
            RuleSpec("tcp dport 443 accept"),
            RuleSpec("udp sport != 53 log prefix \"web: \" drop"),
            RuleSpec("return"),
        ]),
        ChainSpec(name: "ssh", hook: nil, rules: [
            RuleSpec("tcp dport 22 counter accept"),
            RuleSpec("ip saddr 192.168.1.1/24 accept", "ip saddr 192.168.1.0/24 accept"),
            RuleSpec("drop"),
        ]),
    ]

    package static let sets: [SetSpec] = [
        SetSpec(name: "allow", type: "ipv4_addr", elements: ["10.1.0.1", "10.1.0.2", "10.1.0.3", "192.0.2.7"]),
        SetSpec(name: "ports", type: "inet_service", elements: ["22", "80", "443", "8080"]),
    ]

    /// Rules only drift adds to our chains (never in a desired state).
    package static let driftRules = ["udp dport 4444 drop", "tcp dport 6666 accept"]
    /// Elements only drift adds to our sets, by set.
    package static let driftElements = ["allow": "203.0.113.9", "ports": "31337"]

    /// A foreign table and the rules foreign writers add to its one chain.
    package struct ForeignTable: Sendable {
        package var scope: NetnsScope?
        package var ref: NftTableRef
        package var comment: String?
        package var chain: String
        package var hook: NftHook?
        package var rules: [String]

        /// The prefix of its entries: the namespace when not the scope's.
        package var prefix: String { (scope == nil ? "" : "host ") + "\(ref): " }
    }

    /// Tables foreign writers make in the scope's namespace: another name,
    /// and our name in another family.
    package static let foreignTables: [ForeignTable] = [
        ForeignTable(ref: NftTableRef(.inet, "other"), chain: "in", hook: .input, rules: [
            "tcp dport 22 accept", "udp dport 53 accept", "ip saddr 10.0.0.0/8 drop",
        ]),
        ForeignTable(ref: NftTableRef(.ip, "linx"), chain: "c", hook: nil, rules: [
            "tcp dport 25 drop", "udp dport 123 accept",
        ]),
    ]

    /// Our table's name, with our marker, in the host namespace: a pass
    /// that leaks out of its namespace would take it for its own. Only the
    /// simulator has a host namespace the suite may write.
    package static let hostTable = ForeignTable(
        scope: .current, ref: table, comment: marker, chain: "input", hook: .input, rules: ["tcp dport 7 drop"])

    static let prefix = "\(table): "
    static let canonical: [String: String] = {
        var map: [String: String] = [:]
        for chain in chains { for rule in chain.rules { map[rule.written] = rule.canonical } }
        return map
    }()

    // MARK: desired states

    /// One to five chains, each with some of its rules in a random order
    /// (rules whose jump target or set is not drawn are left out), and
    /// zero to two sets with some of their elements.
    package static func validDesired(using random: inout SimRandom) -> NftTable {
        var picked = chains.filter { _ in random.chance(0.5) }
        if picked.isEmpty { picked = [random.pick(chains)] }
        let pickedSets = sets.filter { _ in random.chance(0.5) }
        let chainNames = Set(picked.map(\.name)), setNames = Set(pickedSets.map(\.name))
        var table = NftTable()
        for spec in pickedSets {
            table.sets.append(NftSet(spec.name, type: spec.type, elements: spec.elements.filter { _ in random.chance(0.6) }))
        }
        for spec in picked {
            let usable = spec.rules.filter { rule in
                (rule.chain.map(chainNames.contains) ?? true) && (rule.set.map(setNames.contains) ?? true)
            }
            var rules = usable.filter { _ in random.chance(0.6) }.map(\.written)
            rules.shuffle(using: &random)
            let base = spec.hook.map {
                NftBaseChain(type: .filter, hook: $0, priority: 0, policy: random.chance(0.3) ? .drop : .accept)
            }
            table.chains.append(NftChain(spec.name, base: base, rules: rules))
        }
        return table
    }

    /// Desired states the Source must refuse, each applying nothing.
    package static func invalidDesired() -> [InvalidDesired<NftTable?>] {
        let input = NftBaseChain(type: .filter, hook: .input)
        return [
            InvalidDesired("a rule nft cannot parse", NftTable(chains: [NftChain("input", base: input, rules: ["tcp dport 22 accept", "tcp dport frob accept"])])),
            InvalidDesired("a jump to a chain the table does not have", NftTable(chains: [NftChain("input", base: input, rules: ["jump nowhere"])])),
            InvalidDesired("a rule using a set the table does not have", NftTable(chains: [NftChain("input", base: input, rules: ["ip saddr @nosuch drop"])])),
            InvalidDesired("a chain declared twice", NftTable(chains: [NftChain("input", base: input), NftChain("input")])),
            InvalidDesired("a nat chain on the forward hook", NftTable(chains: [NftChain("fwd", base: NftBaseChain(type: .nat, hook: .forward))])),
            InvalidDesired("a chain name nft cannot take", NftTable(chains: [NftChain("1bad")])),
            InvalidDesired("two rules in one entry", NftTable(chains: [NftChain("web", rules: ["tcp dport 22 accept; drop"])])),
            InvalidDesired("two elements in one entry", NftTable(sets: [NftSet("allow", type: "ipv4_addr", elements: ["10.1.0.1, 10.1.0.2"])])),
        ]
    }

    /// The entries a namespace that holds `desired` has for our table.
    package static func expectedEntries(for desired: NftTable?, flags: NftTableFlags = []) -> [String: String] {
        guard let desired else { return [:] }
        var entries = ["\(prefix)table": tableValue(comment: marker, flags: flags)]
        for chain in desired.chains {
            let rules = chain.rules.map { canonical[$0] ?? $0 }
            add(chain: chain.name, base: chain.base, rules: rules, prefix: prefix, to: &entries)
        }
        for set in desired.sets { add(set: set, prefix: prefix, to: &entries) }
        return entries
    }

    /// The entries of `table` (nil: absent), under `prefix`.
    package static func entries(of table: NftObservedTable?, prefix: String) -> [String: String] {
        var entries: [String: String] = [:]
        add(table, prefix: prefix, to: &entries)
        return entries
    }

    /// Adds the entries of `table` (nil: absent) under `prefix` to
    /// `entries`: what merging ``entries(of:prefix:)`` in gives when no
    /// key of `entries` starts with `prefix` (tables of one snapshot have
    /// distinct prefixes), without a dictionary per table.
    package static func add(_ table: NftObservedTable?, prefix: String, to entries: inout [String: String]) {
        guard let table else { return }
        entries["\(prefix)table"] = tableValue(comment: table.comment, flags: table.flags)
        for chain in table.chains {
            add(chain: chain.name, base: chain.base, rules: chain.rules.map(\.text), prefix: prefix, to: &entries)
        }
        for set in table.sets { add(set: set, prefix: prefix, to: &entries) }
    }

    /// Our table's entries (`table` of the scope's namespace).
    package static func ownEntries(of table: NftObservedTable?) -> [String: String] {
        entries(of: table, prefix: prefix)
    }

    /// The entries of `scope` that are ours: every entry of our table when
    /// `lastApplied` says we left it in place or the table carries our
    /// marker (the kernel's own record of ownership, which survives a lost
    /// lastApplied: a rule added by hand inside it is ours to delete), else
    /// none.
    package static func ownedEntries(in lastApplied: NftLastApplied, scope: ScopeSnapshot<String, String>) -> Set<String> {
        guard lastApplied.ownsTable || scope["\(prefix)table"]?.hasPrefix(markedTableValue) == true else { return [] }
        return Set(scope.entries.keys.lazy.filter { $0.hasPrefix(prefix) })
    }

    /// How a table carrying our marker begins, as a snapshot holds it.
    private static let markedTableValue = "comment \(NftSyntax.quoted(marker)) flags "

    static func tableValue(comment: String?, flags: NftTableFlags) -> String {
        "comment \(comment.map(NftSyntax.quoted) ?? "none") flags \(flags.names.isEmpty ? "none" : flags.names.joined(separator: ","))"
    }

    static func chainValue(_ base: NftBaseChain?) -> String { base?.description ?? "regular" }

    static func rulesValue(_ rules: [String]) -> String { rules.isEmpty ? "(none)" : rules.joined(separator: " ; ") }

    private static func add(chain: String, base: NftBaseChain?, rules: [String], prefix: String, to entries: inout [String: String]) {
        entries["\(prefix)chain \(chain)"] = chainValue(base)
        entries["\(prefix)rules \(chain)"] = rulesValue(rules)
        // Every snapshot lists every rule: the key's head built once per chain.
        let head = "\(prefix)rule \(chain) "
        for rule in rules { entries[head + rule] = "present" }
    }

    private static func add(set: NftSet, prefix: String, to entries: inout [String: String]) {
        entries["\(prefix)set \(set.name)"] = set.declarationText
        let head = "\(prefix)element \(set.name) "
        for element in set.elements { entries[head + element] = "present" }
    }

    /// Every key our table can have: what deleting (or re-creating) it touches.
    package static let allOwnKeys: Set<String> = {
        var keys: Set<String> = ["\(prefix)table"]
        for chain in chains {
            keys.insert("\(prefix)chain \(chain.name)")
            keys.insert("\(prefix)rules \(chain.name)")
            for rule in chain.rules.map(\.canonical) + driftRules { keys.insert("\(prefix)rule \(chain.name) \(rule)") }
        }
        for set in sets {
            keys.insert("\(prefix)set \(set.name)")
            for element in set.elements + [driftElements[set.name]].compactMap({ $0 }) {
                keys.insert("\(prefix)element \(set.name) \(element)")
            }
        }
        return keys
    }()

    /// The keys of ``allOwnKeys`` that are elements of set `name`: found
    /// once per pool set, by the same filter for any other name.
    static func elementKeys(of name: String) -> Set<String> {
        poolElementKeys[name] ?? allOwnKeys.filter { $0.hasPrefix("\(prefix)element \(name) ") }
    }

    private static let poolElementKeys: [String: Set<String>] = Dictionary(
        uniqueKeysWithValues: sets.map { set in (set.name, allOwnKeys.filter { $0.hasPrefix("\(prefix)element \(set.name) ") }) })

    // MARK: ops

    /// What one op does to the entries.
    package static func effect(of op: ReconcileOp<NftObject>) -> OpEffect<String, String> {
        switch (op, op.item) {
        case (.delete, .table):
            return OpEffect(removes: allOwnKeys)
        case (.update, .table):
            // A re-created table: everything in it is re-made by the ops after it.
            return OpEffect(mayChange: allOwnKeys)
        case (_, .table(_, let flags)):
            return OpEffect(sets: ["\(prefix)table": tableValue(comment: marker, flags: flags)])
        case (.delete, .chain(let name, _)):
            return OpEffect(removes: ["\(prefix)chain \(name)", "\(prefix)rules \(name)"])
        case (_, .chain(let name, let base)):
            return OpEffect(sets: ["\(prefix)chain \(name)": chainValue(base)], mayChange: ["\(prefix)rules \(name)"])
        case (.delete, .rule(let chain, let text, _)):
            return OpEffect(removes: ["\(prefix)rule \(chain) \(text)"], mayChange: ["\(prefix)rules \(chain)"])
        case (_, .rule(let chain, let text, _)):
            // A table created as written reports its rules as written.
            let listed = canonical[text] ?? text
            return OpEffect(sets: ["\(prefix)rule \(chain) \(listed)": "present"], mayChange: ["\(prefix)rules \(chain)"])
        case (.delete, .set(let set)):
            let elements = elementKeys(of: set.name)
            return OpEffect(removes: elements.union(["\(prefix)set \(set.name)"]))
        case (.update, .set(let set)):
            let elements = elementKeys(of: set.name)
            return OpEffect(sets: ["\(prefix)set \(set.name)": set.declarationText], mayChange: elements)
        case (_, .set(let set)):
            return OpEffect(sets: ["\(prefix)set \(set.name)": set.declarationText])
        case (.delete, .element(let set, let value)):
            return OpEffect(removes: ["\(prefix)element \(set) \(value)"])
        case (_, .element(let set, let value)):
            return OpEffect(sets: ["\(prefix)element \(set) \(value)": "present"])
        }
    }

    /// True for an entry of our table that `desired` does not list.
    package static func mustBeAbsent(_ key: String, when desired: NftTable?) -> Bool {
        key.hasPrefix(prefix) && expectedEntries(for: desired)[key] == nil
    }

    /// `desired` with one rule, element, unreferenced chain or set taken out
    /// (or, when it holds none of those, the whole table).
    package static func release(from desired: NftTable?, using random: inout SimRandom)
        -> Release<NftTable?, String, String>?
    {
        guard let desired else { return nil }
        enum Pick { case rule(Int, Int), element(Int, Int), chain(Int), set(Int) }
        let allRules = desired.chains.flatMap(\.rules)
        var picks: [Pick] = []
        for (c, chain) in desired.chains.enumerated() {
            for r in chain.rules.indices { picks.append(.rule(c, r)) }
            if !allRules.contains(where: { jumps($0, to: chain.name) }) { picks.append(.chain(c)) }
        }
        for (s, set) in desired.sets.enumerated() {
            for e in set.elements.indices { picks.append(.element(s, e)) }
            if !allRules.contains(where: { $0.contains("@\(set.name)") }) { picks.append(.set(s)) }
        }
        guard !picks.isEmpty else {
            return Release("table \(table)", desired: nil, expected: expectedEntries(for: desired).mapValues { _ in nil })
        }
        var rest = desired
        switch random.pick(picks) {
        case .rule(let c, let r):
            let chain = rest.chains[c].name
            let text = rest.chains[c].rules.remove(at: r)
            let canonicalText = canonical[text] ?? text
            return Release(
                "rule \(chain) \(NftSyntax.quoted(text))", desired: rest,
                expected: [
                    "\(prefix)rule \(chain) \(canonicalText)": nil,
                    "\(prefix)rules \(chain)": rulesValue(rest.chains[c].rules.map { canonical[$0] ?? $0 }),
                ])
        case .element(let s, let e):
            let set = rest.sets[s].name
            let value = rest.sets[s].elements.remove(at: e)
            return Release("element \(set) \(value)", desired: rest, expected: ["\(prefix)element \(set) \(value)": nil])
        case .chain(let c):
            let chain = rest.chains.remove(at: c)
            var expected: [String: String?] = ["\(prefix)chain \(chain.name)": nil, "\(prefix)rules \(chain.name)": nil]
            for rule in chain.rules { expected["\(prefix)rule \(chain.name) \(canonical[rule] ?? rule)"] = nil as String? }
            return Release("chain \(chain.name)", desired: rest, expected: expected)
        case .set(let s):
            let set = rest.sets.remove(at: s)
            var expected: [String: String?] = ["\(prefix)set \(set.name)": nil]
            for element in set.elements { expected["\(prefix)element \(set.name) \(element)"] = nil as String? }
            return Release("set \(set.name)", desired: rest, expected: expected)
        }
    }

    /// True when `rule` jumps to (or goes to) `chain`, which then cannot go.
    static func jumps(_ rule: String, to chain: String) -> Bool {
        rule.hasSuffix("jump \(chain)") || rule.hasSuffix("goto \(chain)")
    }

    // MARK: foreign writers

    /// One to three foreign writes, as commands for a foreign socket: a
    /// foreign table (made when missing) gets one more rule. `tables` are
    /// the tables this kernel lets the suite write.
    package static func foreignWrites(tables: [ForeignTable], using random: inout SimRandom)
        -> [(table: ForeignTable, commands: [NftCommand])]
    {
        var writes: [(ForeignTable, [NftCommand])] = []
        for _ in 0..<random.int(in: 1...3) {
            let foreign = random.pick(tables)
            let base = foreign.hook.map { NftBaseChain(type: .filter, hook: $0) }
            writes.append((foreign, [
                .addTable(foreign.ref, flags: [], comment: foreign.comment),
                .addChain(foreign.ref, name: foreign.chain, base: base),
                .addRule(foreign.ref, chain: foreign.chain, rule: random.pick(foreign.rules), before: nil),
            ]))
        }
        return writes
    }

    /// One to three drift steps: mostly a step on our table as `table` reads
    /// it now, sent with `commit` (a foreign socket; a refusal changes
    /// nothing and is labelled so), otherwise a round of `foreign` state.
    package static func drift(
        using random: inout SimRandom,
        table: () async throws -> NftObservedTable?,
        commit: ([NftCommand]) throws -> Void,
        foreign: (inout SimRandom) async throws -> [String: String]
    ) async throws -> Drift<String, String> {
        var labels: [String] = []
        var added: [String: String] = [:]
        for _ in 0..<random.int(in: 1...3) {
            if random.chance(0.8), let table = try await table(), let (label, commands) = driftStep(on: table, using: &random) {
                do {
                    try commit(commands)
                    labels.append(label)
                } catch {
                    labels.append("\(label) refused (\(error))")
                }
            } else {
                let made = try await foreign(&random)
                added.merge(made) { _, new in new }
                labels.append("foreign \(made.count) entries")
            }
        }
        return Drift(labels.joined(separator: "; "), addedForeign: added)
    }

    /// One drift step on our table as it is now, as the commands a foreign
    /// socket sends and a label: a rule deleted or added, a policy flipped,
    /// an element deleted or added, a regular chain or the whole table
    /// deleted. Nil when the table holds nothing that step could touch.
    package static func driftStep(on table: NftObservedTable, using random: inout SimRandom) -> (label: String, commands: [NftCommand])? {
        let ref = table.ref
        switch random.below(7) {
        case 0:
            let rules = table.chains.flatMap { chain in chain.rules.map { (chain.name, $0) } }
            guard !rules.isEmpty else { return nil }
            let (chain, rule) = random.pick(rules)
            return ("deleted rule \(chain) \(NftSyntax.quoted(rule.text))", [.deleteRule(ref, chain: chain, handle: rule.handle)])
        case 1:
            guard !table.chains.isEmpty else { return nil }
            let chain = random.pick(table.chains)
            let free = driftRules.filter { text in !chain.rules.contains { $0.text == text } }
            guard !free.isEmpty else { return nil }
            let text = random.pick(free)
            let before = random.chance(0.5) ? chain.rules.first?.handle : nil
            return ("added rule \(chain.name) \(NftSyntax.quoted(text))", [.addRule(ref, chain: chain.name, rule: text, before: before)])
        case 2:
            let bases = table.chains.filter { $0.base != nil }
            guard !bases.isEmpty else { return nil }
            let chain = random.pick(bases)
            var base = chain.base!
            base.policy = base.policy == .accept ? .drop : .accept
            return ("policy \(chain.name) \(base.policy)", [.addChain(ref, name: chain.name, base: base)])
        case 3:
            let elements = table.sets.flatMap { set in set.elements.map { (set.name, $0) } }
            guard !elements.isEmpty else { return nil }
            let (set, element) = random.pick(elements)
            return ("deleted element \(set) \(element)", [.deleteElements(ref, set: set, [element])])
        case 4:
            guard !table.sets.isEmpty else { return nil }
            let set = random.pick(table.sets)
            guard let element = driftElements[set.name], !set.elements.contains(element) else { return nil }
            return ("added element \(set.name) \(element)", [.addElements(ref, set: set.name, [element])])
        case 5:
            let rules = table.chains.flatMap { $0.rules.map(\.text) }
            let free = table.chains.filter { chain in
                chain.base == nil && !rules.contains { jumps($0, to: chain.name) }
            }
            guard !free.isEmpty else { return nil }
            let chain = random.pick(free)
            return ("deleted chain \(chain.name)", [.deleteChain(ref, name: chain.name)])
        default:
            guard random.chance(0.3) else { return nil }
            return ("deleted table \(ref)", [.deleteTable(ref)])
        }
    }
}
