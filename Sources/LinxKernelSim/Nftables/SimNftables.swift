import LinxReconcile
import SystemPackage
import Synchronization

/// One namespace's nf_tables, as the kernel keeps it: tables with their
/// chains, rules and sets, the namespace-wide generation id, and the
/// nf_tables monitors.
///
/// Semantics checked on Linux 6.18 (nft 1.0.6 and raw netlink, in a
/// throwaway namespace): every commit bumps the generation by one; a batch
/// whose generation is stale is refused with ERESTART and changes nothing;
/// a refused command refuses the whole batch with its errno; a table with
/// the owner flag refuses every other socket with EPERM and is removed when
/// its socket closes unless it also has the persist flag (then it is
/// orphaned and any socket may change it); deleting a chain takes its rules
/// with it, but a chain a rule jumps to is EBUSY, as is a set a rule uses;
/// re-adding a set with another type is EEXIST; changing a base chain's
/// type, hook or priority is EOPNOTSUPP (its policy may change); deleting
/// a missing object or element is ENOENT; adding an element twice is fine.
struct SimNftables: Sendable {
    struct Table: Sendable {
        var ref: NftTableRef
        var flags: NftTableFlags
        var comment: String?
        /// The socket that owns it (NFT_TABLE_F_OWNER); nil when orphaned.
        var ownerPort: UInt32?
        var chains: [Chain] = []
        var sets: [NftSet] = []
        var nextHandle: UInt64 = 1
    }

    struct Chain: Sendable {
        var name: String
        var handle: UInt64
        var base: NftBaseChain?
        var rules: [Rule] = []
    }

    struct Rule: Sendable {
        var handle: UInt64
        var parsed: SimNftSyntax.Parsed
        /// The index each of its `iif`/`oif` operands named when it was
        /// added (``SimNftSyntax/resolve(_:in:)``): the kernel holds the
        /// index, and a listing names it anew (``text(_:)``).
        var ifindices: [[Int32]] = []
        /// Deleted by the batch being committed: gone when it commits, but
        /// until then still a place to insert before (the kernel keeps it in
        /// the chain, inactive; observed on 6.18: `delete rule ... handle H;
        /// insert rule ... position H R` commits R where H was). It jumps
        /// nowhere and uses no set.
        var isDeleted = false

        /// Its listing in a namespace whose links are `links` now.
        func text(_ links: LinkNames) -> String {
            parsed.interfaces.isEmpty ? parsed.text : SimNftSyntax.listing(parsed, indices: ifindices, name: links.name(of:))
        }
    }

    /// A namespace's links as nft sees them: an `iif`/`oif` name resolves
    /// to an index when a rule is added, and a listing names the index
    /// with the link that has it then.
    struct LinkNames: Sendable {
        var indices: [String: Int32]
        var links: [Int32: SimLinkState]

        /// No links (not even lo).
        static let none = LinkNames(indices: [:], links: [:])

        func name(of index: Int32) -> String? { links[index]?.link.name }
    }

    /// A rule nft checked: parsed, its interface operands resolved.
    struct CheckedRule: Sendable {
        var parsed: SimNftSyntax.Parsed
        var ifindices: [[Int32]]
    }

    var tables: [Table] = [] {
        // Without oldValue the observer keeps mutations in place.
        didSet {
            stamp = nil
            listings = []
        }
    }
    /// Nil after a change of ``tables`` (or of the links, while a rule
    /// names one) until someone asks (``tablesStamp()``).
    private var stamp: UInt64?
    /// What ``observed(_:links:)`` made of each table asked for since
    /// ``tables`` last changed, or the namespace's links while a rule names
    /// one (``listing(_:links:)``, ``linksChanged()``).
    private var listings: [(ref: NftTableRef, table: NftObservedTable?)] = []
    /// Starts where a fresh namespace's did on Linux 6.18 here (any value
    /// would do: callers only compare it).
    var generation: UInt32 = 1
    var subscribers: [SimSubscriber<NftEvent>] = []

    /// After a reboot: no tables, monitors kept (they see an overflow).
    func rebooted() -> SimNftables {
        var fresh = SimNftables()
        fresh.subscribers = subscribers
        for subscriber in subscribers { subscriber.forceOverflow() }
        return fresh
    }

    /// A number naming what a listing shows now (what ``tables`` hold, and
    /// for a rule with `iif`/`oif` operands the names of the links): it
    /// stays the same until a table, chain, rule, set or element changes,
    /// or a link comes or goes while a rule has such an operand, and no
    /// other contents (of any namespace of any kernel in this process) are
    /// ever given the same one. Made on demand, so a commit costs no more
    /// than clearing it.
    mutating func tablesStamp() -> UInt64 {
        if let stamp { return stamp }
        let fresh = Self.stamps.wrappingAdd(1, ordering: .relaxed).newValue
        stamp = fresh
        return fresh
    }

    /// Stamps are unique in the process: two values (copies included)
    /// carry the same stamp only when they hold the same tables.
    private static let stamps = Atomic<UInt64>(0)

    /// ``observed(_:links:)``, made once per change of ``tables`` (or of
    /// the links, see ``linksChanged()``): every pass observes our table
    /// and the subject lists it, and most passes change nothing.
    mutating func listing(_ ref: NftTableRef, links: LinkNames) -> NftObservedTable? {
        if let kept = listings.first(where: { $0.ref == ref }) { return kept.table }
        let made = observed(ref, links: links)
        listings.append((ref, made))
        return made
    }

    /// The namespace's links changed (one came or went; ``SimNetns`` calls
    /// it): a rule's `iif`/`oif` lists the name of the link its index has
    /// now, so the listings and the stamp go when a rule has such an
    /// operand (looked for only when something is kept).
    mutating func linksChanged() {
        guard stamp != nil || !listings.isEmpty else { return }
        guard tables.contains(where: { $0.chains.contains { $0.rules.contains { !$0.parsed.interfaces.isEmpty } } }) else { return }
        stamp = nil
        listings = []
    }

    func table(_ ref: NftTableRef) -> Table? { tables.first { $0.ref == ref } }

    /// `ref` as nft lists it in a namespace whose links are `links`.
    func observed(_ ref: NftTableRef, links: LinkNames) -> NftObservedTable? {
        guard let table = table(ref) else { return nil }
        return NftObservedTable(
            ref: ref, flags: table.flags, comment: table.comment,
            chains: table.chains.map { chain in
                NftObservedChain(name: chain.name, base: chain.base, rules: chain.rules.map { NftObservedRule(handle: $0.handle, text: $0.text(links)) })
            },
            sets: table.sets)
    }

    /// Commits `commands` as socket `port`: all or nothing. `links` are
    /// the namespace's, which nft resolves `iif`/`oif` names against.
    mutating func commit(_ commands: [NftCommand], expecting generation: UInt32?, port: UInt32, links: LinkNames) throws(NftTransactionError) {
        if let generation, generation != self.generation {
            throw NftTransactionError(error: KernelError(.restart, "generation \(generation) is stale (now \(self.generation))"))
        }
        let parsedRules = try userspaceCheck(commands, links: links)
        var scratch = self
        // The kernel checks each command as it comes, and names every one it
        // refuses (the earliest is the one named). A loop reachable from a
        // base chain is found only when the batch commits, if no command was
        // refused: the kernel then replays the batch checking the ruleset at
        // every command, and names the first after which a base chain
        // reaches the loop (observed on 6.18: `add rule b jump c; add rule c
        // jump b; delete chain missing` is ENOENT at the third command only).
        var loopFrom: Int?
        var deletedRules = false
        for (index, command) in commands.enumerated() {
            do throws(KernelError) {
                try scratch.runCommand(command, port: port, parsed: parsedRules[index])
            } catch {
                throw NftTransactionError(index: index, object: command.object, error: error)
            }
            if case .deleteRule = command { deletedRules = true }
            if loopFrom == nil, scratch.reachesLoop(after: command, parsed: parsedRules[index]) { loopFrom = index }
        }
        if let loopFrom, scratch.reachesLoop(in: commands[loopFrom].table) {
            throw NftTransactionError(index: loopFrom, object: commands[loopFrom].object, error: KernelError(.tooManyLinks, "Too many links"))
        }
        if deletedRules { scratch.dropDeletedRules() }
        scratch.generation &+= 1
        scratch.subscribers = []
        let subscribers = self.subscribers
        self = scratch
        self.subscribers = subscribers
        publish(.changed)
    }

    mutating func publish(_ event: NftEvent) {
        guard !subscribers.isEmpty else { return }
        for subscriber in subscribers where !subscriber.isClosed { subscriber.deliver(event) }
        subscribers.removeAll { $0.isClosed }
    }

    /// The socket `port` closed: its owner tables go, or are orphaned when
    /// they persist. True when anything changed.
    mutating func close(port: UInt32) -> Bool {
        let before = tables.count
        var orphaned = false
        tables.removeAll { $0.ownerPort == port && !$0.flags.contains(.persist) }
        for i in tables.indices where tables[i].ownerPort == port {
            tables[i].ownerPort = nil
            orphaned = true
        }
        guard before != tables.count || orphaned else { return false }
        generation &+= 1
        publish(.changed)
        return true
    }

    /// True when following jumps from a base chain comes back to a chain
    /// already on the path.
    static func baseChainsReachLoop(_ chains: [Chain]) -> Bool {
        let jumps = Dictionary(chains.map { ($0.name, $0.rules.flatMap(\.parsed.jumps)) }, uniquingKeysWith: { a, _ in a })
        func loops(from chain: String, path: Set<String>) -> Bool {
            guard !path.contains(chain) else { return true }
            return (jumps[chain] ?? []).contains { loops(from: $0, path: path.union([chain])) }
        }
        return chains.contains { $0.base != nil && loops(from: $0.name, path: []) }
    }

    /// A map element is deleted by its key alone.
    static func elementKey(_ element: String, isMap: Bool) -> String {
        guard isMap, let colon = element.firstRange(of: " : ") else { return element }
        return String(element[..<colon.lowerBound])
    }

    private func tableIndex(_ ref: NftTableRef, port: UInt32, writing: Bool = true) throws(KernelError) -> Int {
        guard let index = tables.firstIndex(where: { $0.ref == ref }) else {
            throw KernelError(.noSuchFileOrDirectory, "No such file or directory")
        }
        if writing, tables[index].flags.contains(.owner), let owner = tables[index].ownerPort, owner != port {
            throw KernelError(.notPermitted, "Operation not permitted")
        }
        return index
    }

    /// Runs `command` as a commit of its own would, after
    /// ``userspaceCheck(_:links:)`` checked it (`parsed`): refused with EMLINK
    /// when a base chain then reaches a loop.
    mutating func run(_ command: NftCommand, port: UInt32, parsed: CheckedRule?) throws(KernelError) {
        try runCommand(command, port: port, parsed: parsed)
        if reachesLoop(after: command, parsed: parsed) { throw KernelError(.tooManyLinks, "Too many links") }
    }

    /// Whether, after `command` ran, a base chain of its table reaches a
    /// loop (only a rule with a jump can close one).
    private func reachesLoop(after command: NftCommand, parsed: CheckedRule?) -> Bool {
        guard case .addRule(let ref, _, _, _) = command, let parsed, !parsed.parsed.jumps.isEmpty else { return false }
        return reachesLoop(in: ref)
    }

    private func reachesLoop(in ref: NftTableRef) -> Bool {
        guard let table = table(ref) else { return false }
        return Self.baseChainsReachLoop(table.chains)
    }

    /// Removes the rules the committed batch deleted.
    private mutating func dropDeletedRules() {
        for t in tables.indices {
            for c in tables[t].chains.indices where tables[t].chains[c].rules.contains(where: \.isDeleted) {
                tables[t].chains[c].rules.removeAll(where: \.isDeleted)
            }
        }
    }

    /// Runs one command of a commit, as the kernel checks it on its own;
    /// `checked` is the rule of an `addRule` as ``userspaceCheck(_:links:)``
    /// checked it (nft sends the kernel nothing it did not check).
    private mutating func runCommand(_ command: NftCommand, port: UInt32, parsed checked: CheckedRule?) throws(KernelError) {
        switch command {
        case .addTable(let ref, let flags, let comment):
            if let index = tables.firstIndex(where: { $0.ref == ref }) {
                if tables[index].flags.contains(.owner), let owner = tables[index].ownerPort, owner != port {
                    throw KernelError(.notPermitted, "Operation not permitted")
                }
                // An orphaned persistent table is taken over by asking for the owner flag.
                if tables[index].flags.contains(.owner), tables[index].ownerPort == nil, flags.contains(.owner) {
                    tables[index].ownerPort = port
                } else if flags.subtracting(.dormant) != tables[index].flags.subtracting(.dormant) {
                    throw KernelError(.notSupported, "Operation not supported")
                }
                tables[index].flags = flags
                if let comment { tables[index].comment = comment }
            } else {
                guard !flags.contains(.persist) || flags.contains(.owner) else {
                    throw KernelError(.invalidArgument, "Invalid argument")
                }
                tables.append(Table(ref: ref, flags: flags, comment: comment, ownerPort: flags.contains(.owner) ? port : nil))
            }
        case .deleteTable(let ref):
            let index = try tableIndex(ref, port: port)
            tables.remove(at: index)
        case .addChain(let ref, let name, let base):
            let t = try tableIndex(ref, port: port)
            if let c = tables[t].chains.firstIndex(where: { $0.name == name }) {
                let old = tables[t].chains[c].base
                switch (old, base) {
                case (nil, nil): return
                case (let old?, let new?) where (old.type, old.hook, old.priority) == (new.type, new.hook, new.priority):
                    tables[t].chains[c].base = new
                default:
                    throw KernelError(.notSupported, "Operation not supported")
                }
                return
            }
            if let base, NftablesReconciler.hookProblem(base, family: ref.family) != nil {
                throw KernelError(.notSupported, "Operation not supported")
            }
            tables[t].chains.append(Chain(name: name, handle: tables[t].nextHandle, base: base))
            tables[t].nextHandle += 1
        case .deleteChain(let ref, let name):
            let t = try tableIndex(ref, port: port)
            guard let c = tables[t].chains.firstIndex(where: { $0.name == name }) else {
                throw KernelError(.noSuchFileOrDirectory, "No such file or directory")
            }
            // Its own `jump` to itself counts too (observed on 6.18: EBUSY).
            if tables[t].chains.contains(where: { chain in chain.rules.contains { $0.parsed.jumps.contains(name) } }) {
                throw KernelError(.resourceBusy, "Device or resource busy")
            }
            tables[t].chains.remove(at: c)
        case .addRule(let ref, let chain, _, let before):
            let t = try tableIndex(ref, port: port)
            guard let c = tables[t].chains.firstIndex(where: { $0.name == chain }) else {
                throw KernelError(.noSuchFileOrDirectory, "No such file or directory")
            }
            guard let checked else { preconditionFailure("a rule reached the kernel unchecked by userspaceCheck") }
            let parsed = checked.parsed
            for target in parsed.jumps {
                guard let jumped = tables[t].chains.first(where: { $0.name == target }) else {
                    throw KernelError(.noSuchFileOrDirectory, "No such file or directory")
                }
                // A jump to a base chain is refused (observed on 6.18: EOPNOTSUPP).
                if jumped.base != nil { throw KernelError(.notSupported, "Operation not supported") }
            }
            for set in parsed.sets where !tables[t].sets.contains(where: { $0.name == set }) {
                throw KernelError(.noSuchFileOrDirectory, "No such file or directory")
            }
            let new = Rule(handle: tables[t].nextHandle, parsed: parsed, ifindices: checked.ifindices)
            tables[t].nextHandle += 1
            if let before {
                guard let position = tables[t].chains[c].rules.firstIndex(where: { $0.handle == before }) else {
                    throw KernelError(.noSuchFileOrDirectory, "No such file or directory")
                }
                tables[t].chains[c].rules.insert(new, at: position)
            } else {
                tables[t].chains[c].rules.append(new)
            }
            // A loop is refused only once a base chain reaches it (observed on
            // 6.18: `jump c` inside an unattached chain c is accepted; the
            // rule that makes a base chain reach it is EMLINK): see commit.
        case .deleteRule(let ref, let chain, let handle):
            let t = try tableIndex(ref, port: port)
            guard let c = tables[t].chains.firstIndex(where: { $0.name == chain }),
                let r = tables[t].chains[c].rules.firstIndex(where: { $0.handle == handle }), !tables[t].chains[c].rules[r].isDeleted
            else { throw KernelError(.noSuchFileOrDirectory, "No such file or directory") }
            tables[t].chains[c].rules[r] = Rule(handle: handle, parsed: SimNftSyntax.Parsed(text: "", jumps: [], sets: []), isDeleted: true)
        case .addSet(let ref, let set):
            let t = try tableIndex(ref, port: port)
            if let existing = tables[t].sets.first(where: { $0.name == set.name }) {
                guard existing.declaration == set.declaration else { throw KernelError(.fileExists, "File exists") }
                return
            }
            tables[t].sets.append(set.declaration)
        case .deleteSet(let ref, let name):
            let t = try tableIndex(ref, port: port)
            guard let s = tables[t].sets.firstIndex(where: { $0.name == name }) else {
                throw KernelError(.noSuchFileOrDirectory, "No such file or directory")
            }
            if tables[t].chains.contains(where: { $0.rules.contains { $0.parsed.sets.contains(name) } }) {
                throw KernelError(.resourceBusy, "Device or resource busy")
            }
            tables[t].sets.remove(at: s)
        case .addElements(let ref, let name, let elements):
            let t = try tableIndex(ref, port: port)
            guard let s = tables[t].sets.firstIndex(where: { $0.name == name }) else {
                throw KernelError(.noSuchFileOrDirectory, "No such file or directory")
            }
            let set = tables[t].sets[s]
            var all = set.elements
            for element in elements {
                let canonical: String
                do {
                    canonical = try SimNftSyntax.element(element, type: set.type, isMap: set.dataType != nil)
                } catch {
                    throw KernelError(.invalidArgument, error.message)
                }
                if !all.contains(canonical) { all.append(canonical) }
            }
            tables[t].sets[s].elements = SimNftSyntax.sortedElements(all, type: set.type)
        case .deleteElements(let ref, let name, let elements):
            let t = try tableIndex(ref, port: port)
            guard let s = tables[t].sets.firstIndex(where: { $0.name == name }) else {
                throw KernelError(.noSuchFileOrDirectory, "No such file or directory")
            }
            let set = tables[t].sets[s]
            var all = set.elements
            for element in elements {
                // nft parses the element by the set's type before it asks the kernel.
                let canonical: String
                do {
                    canonical = try SimNftSyntax.element(element, type: set.type, isMap: set.dataType != nil)
                } catch {
                    throw KernelError(.invalidArgument, error.message)
                }
                let key = Self.elementKey(canonical, isMap: set.dataType != nil)
                guard let i = all.firstIndex(where: { Self.elementKey($0, isMap: set.dataType != nil) == key }) else {
                    throw KernelError(.noSuchFileOrDirectory, "No such file or directory")
                }
                all.remove(at: i)
            }
            tables[t].sets[s].elements = all
        }
    }
}

extension SimNftables {
    /// `table` as the kernel would list it after creating it in a namespace
    /// with no nf_tables and the links `links` (`iif`/`oif` names resolve
    /// against them, as ``LinuxKernel`` checks a table where it will live),
    /// or the refusal of the first thing it refuses, named as the user
    /// wrote it (`chain input rule 2 "..."`).
    static func canonicalize(_ table: NftTable, as ref: NftTableRef, links: LinkNames) throws(NftTransactionError) -> NftTable {
        var scratch = SimNftables()
        // Each command is its own commit, run in place: the scratch table
        // is thrown away at the first refusal, so a commit's copy (to
        // leave it unchanged) would buy nothing.
        // The object is named only when refused (it quotes the rule).
        func run(_ command: NftCommand, _ object: @autoclosure () -> String) throws(NftTransactionError) {
            do throws(NftTransactionError) {
                let parsed = try scratch.userspaceCheck([command], links: links)
                do throws(KernelError) {
                    try scratch.run(command, port: 0, parsed: parsed[0])
                } catch {
                    throw NftTransactionError(index: 0, object: command.object, error: error)
                }
            } catch {
                throw NftTransactionError(index: nil, object: object(), error: error.error)
            }
        }
        try run(.addTable(ref, flags: [], comment: nil), "")
        for set in table.sets {
            try run(.addSet(ref, set.declaration), "\(set.kind) \(set.name)")
            for element in set.elements {
                try run(.addElements(ref, set: set.name, [element]), "\(set.kind) \(set.name) element \(NftSyntax.quoted(element))")
            }
        }
        for chain in table.chains {
            try run(.addChain(ref, name: chain.name, base: chain.base), "chain \(chain.name)")
        }
        for chain in table.chains {
            for (index, rule) in chain.rules.enumerated() {
                try run(.addRule(ref, chain: chain.name, rule: rule, before: nil), "chain \(chain.name) rule \(index + 1) \(NftSyntax.quoted(rule))")
            }
        }
        return scratch.observed(ref, links: links)!.content
    }
}
