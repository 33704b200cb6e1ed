import LinxKernelSim
import LinxReconcile

/// The nf_tables differential: one seeded sequence of transactions on one
/// table, committed through ``/LinxReconcile/NftablesBackend`` to two kernels (the
/// simulator and the real one), compared after every step: the outcome
/// (carried out, or refused with which errno at which command) and the
/// table as each lists it (chains with hooks and policies, rules in order,
/// sets with elements; handles are each kernel's own and not compared).
///
/// The outcome names the refused command too. When several commands of a
/// batch fail, the one named is the earliest of those reported, and what is
/// reported follows nft's and the kernel's order: nft's own refusals
/// (parsing, element and set types, objects missing from its cache) keep
/// the batch from the kernel, so they win over any the kernel would make;
/// otherwise the kernel's per-command refusals; a loop only when nothing
/// else was refused (found at commit). Batches of up to ``maxBatch``
/// commands draw such multi-failure batches often.
///
/// Steps name rules by position, so each kernel's own handles are used.
/// The draws mix what the kernel accepts with what it refuses: a jump to a
/// missing chain, a set used by a rule deleted, a set re-declared with
/// another type, a base chain's hook changed, a missing element deleted, a
/// chain a rule jumps to deleted, an `iif` name no link has (both
/// namespaces hold lo alone, index 1: `iif lo` and `oif { lo, 7 }` resolve,
/// one by name and one by number), and batches where a later command fails.
public struct NftFidelityCheck: Sendable {
    /// One abstract command; the check makes it a concrete command for each
    /// kernel from the table that kernel holds at that step.
    public enum Step: Sendable, Hashable, CustomStringConvertible {
        case addTable
        case deleteTable
        case addChain(String, hook: NftHook?, priority: Int32, policy: NftPolicy)
        case deleteChain(String)
        case addRule(chain: String, rule: String, beforePosition: Int?)
        case deleteRule(chain: String, position: Int)
        case addSet(String, type: String)
        case deleteSet(String)
        case addElement(set: String, String)
        case deleteElement(set: String, String)

        public var description: String {
            switch self {
            case .addTable: "add table"
            case .deleteTable: "delete table"
            case .addChain(let name, let hook, let priority, let policy):
                hook.map { "add chain \(name) hook \($0) priority \(priority) policy \(policy)" } ?? "add chain \(name)"
            case .deleteChain(let name): "delete chain \(name)"
            case .addRule(let chain, let rule, let before): "add rule \(chain) \(NftSyntax.quoted(rule))" + (before.map { " before #\($0)" } ?? "")
            case .deleteRule(let chain, let position): "delete rule \(chain) #\(position)"
            case .addSet(let name, let type): "add set \(name) type \(type)"
            case .deleteSet(let name): "delete set \(name)"
            case .addElement(let set, let value): "add element \(set) \(value)"
            case .deleteElement(let set, let value): "delete element \(set) \(value)"
            }
        }
    }

    /// Where the sequences first differ.
    public struct Divergence: Sendable, CustomStringConvertible {
        public var seed: UInt64
        public var step: Int
        public var batch: [Step]
        public var sim: String
        public var kernel: String
        /// The check that found it, so the replay command runs the same sequence.
        public var check: NftFidelityCheck

        /// The command that runs this sequence again.
        public var replayCommand: String {
            "linx fidelity --seeds 1 --seed \(seed) --steps \(check.steps) --subsystem nftables --nft-batch \(check.maxBatch)"
        }

        public var description: String {
            "seed \(seed) step \(step) [\(batch.map(\.description).joined(separator: "; "))]:\n  sim:    \(sim)\n  kernel: \(kernel)\n"
                + "  replay: \(replayCommand)"
        }
    }

    /// The table every sequence works on.
    public static let table = NftTableRef(.inet, "fidelity")
    static let chains = ["a", "b", "c"]
    static let rules = [
        "tcp dport 22 accept", "ip saddr 10.0.0.1/8 drop", "tcp dport {443,80} counter accept", "jump b", "jump c", "ip saddr @s drop",
        "jump nowhere", "return", "jump a", "tcp dport frob accept", "iif lo accept", "oif { lo, 7 } accept", "iif \"nope0\" accept",
    ]
    static let elements = ["10.1.0.1", "10.1.0.2", "192.0.2.9"]

    /// Batches per sequence.
    public var steps: Int
    /// Commands per batch, at most.
    public var maxBatch: Int

    /// A check of `steps` batches of up to `maxBatch` commands (1: one
    /// command a batch, no multi-failure batches).
    public init(steps: Int = 40, maxBatch: Int = 4) {
        self.steps = steps
        self.maxBatch = max(1, maxBatch)
    }

    /// The batches of `seed`'s sequence.
    public func sequence(seed: UInt64) -> [[Step]] {
        var random = SimRandom(seed: seed ^ 0x4E46_5431)
        var out: [[Step]] = [[.addTable]]
        for _ in 1..<steps {
            out.append((0..<random.int(in: 1...maxBatch)).map { _ in Self.draw(&random) })
        }
        return out
    }

    static func draw(_ random: inout SimRandom) -> Step {
        switch random.below(20) {
        case 0: return random.chance(0.3) ? .deleteTable : .addTable
        case 1, 2, 3:
            let name = random.pick(chains)
            // "a" is the base chain; its hook and priority vary rarely, so a change is sometimes drawn.
            if name == "a" {
                return .addChain("a", hook: random.chance(0.85) ? .input : .output, priority: random.chance(0.85) ? 0 : 10, policy: random.pick([.accept, .drop]))
            }
            return .addChain(name, hook: nil, priority: 0, policy: .accept)
        case 4: return .deleteChain(random.pick(chains))
        case 5...10: return .addRule(chain: random.pick(chains), rule: random.pick(rules), beforePosition: random.chance(0.3) ? random.below(3) : nil)
        case 11, 12: return .deleteRule(chain: random.pick(chains), position: random.below(4))
        case 13, 14: return .addSet("s", type: random.chance(0.85) ? "ipv4_addr" : "inet_service")
        case 15: return .deleteSet("s")
        case 16, 17: return .addElement(set: "s", random.pick(elements))
        default: return .deleteElement(set: "s", random.pick(elements))
        }
    }

    /// `step` as commands for a kernel whose table is `table` now; a rule
    /// position that does not exist becomes a handle no rule has.
    static func command(_ step: Step, on table: NftObservedTable?) -> NftCommand {
        let ref = Self.table
        func handle(_ chain: String, _ position: Int) -> UInt64? {
            guard let rules = table?.chains.first(where: { $0.name == chain })?.rules, rules.indices.contains(position) else { return nil }
            return rules[position].handle
        }
        switch step {
        case .addTable: return .addTable(ref, flags: [], comment: nil)
        case .deleteTable: return .deleteTable(ref)
        case .addChain(let name, let hook, let priority, let policy):
            return .addChain(ref, name: name, base: hook.map { NftBaseChain(type: .filter, hook: $0, priority: priority, policy: policy) })
        case .deleteChain(let name): return .deleteChain(ref, name: name)
        case .addRule(let chain, let rule, let before):
            return .addRule(ref, chain: chain, rule: rule, before: before.flatMap { handle(chain, $0) })
        case .deleteRule(let chain, let position): return .deleteRule(ref, chain: chain, handle: handle(chain, position) ?? 999_999)
        case .addSet(let name, let type): return .addSet(ref, NftSet(name, type: type))
        case .deleteSet(let name): return .deleteSet(ref, name: name)
        case .addElement(let set, let value): return .addElements(ref, set: set, [value])
        case .deleteElement(let set, let value): return .deleteElements(ref, set: set, [value])
        }
    }

    /// Runs `seed`'s sequence on both kernels (each in its own scope, where
    /// the table does not exist yet and the same links are, by name and
    /// index: `iif`/`oif` resolve against them; lo alone, as a fresh
    /// namespace has, is what the drawn rules expect); nil when they never
    /// differ. Throws only when a kernel cannot be observed at all.
    public func run(
        seed: UInt64, sim: any NftablesBackend, simScope: NetnsScope, kernel: any NftablesBackend, kernelScope: NetnsScope
    ) async throws -> Divergence? {
        for (index, batch) in sequence(seed: seed).enumerated() {
            let a = try await Self.step(batch, on: sim, in: simScope)
            let b = try await Self.step(batch, on: kernel, in: kernelScope)
            if a != b { return Divergence(seed: seed, step: index + 1, batch: batch, sim: a, kernel: b, check: self) }
        }
        return nil
    }

    /// Commits one batch to `backend` in `scope` and describes the outcome
    /// and the table after it, as ``run(seed:sim:simScope:kernel:kernelScope:)`` compares them.
    public static func step(_ batch: [Step], on backend: any NftablesBackend, in scope: NetnsScope) async throws -> String {
        let before = try await backend.observeTable(table, in: scope)
        let commands = batch.map { command($0, on: before.table) }
        var outcome: String
        do {
            _ = try await backend.commit(commands, expecting: before.generation, in: scope)
            outcome = "done"
        } catch {
            outcome = "refused \(error.error.errno.symbolicName)" + (error.index.map { " at command \($0 + 1)" } ?? "")
        }
        let after = try await backend.observeTable(table, in: scope)
        return outcome + "; " + describe(after.table)
    }

    static func describe(_ table: NftObservedTable?) -> String {
        guard let table else { return "no table" }
        let chains = table.chains.map { chain in
            "\(chain.name)\(chain.base.map { " (\($0))" } ?? ""): [\(chain.rules.map(\.text).joined(separator: " | "))]"
        }
        let sets = table.sets.map { "set \($0.name) \($0.declarationText) {\($0.elements.sorted().joined(separator: ", "))}" }
        return (chains + sets).joined(separator: "; ")
    }
}
