@testable import LinxReconcile
import LinxKernelSim
import Testing

/// `NftDiff` settles a table that already holds the desired one without
/// the full diff. Checked against the full diff on drawn pairs of desired
/// and observed tables that are mostly equal and differ in one detail each
/// the shortcut must see (a rule, rule order, a policy, a hook, an element,
/// element order, a set's type or flags, a chain or set more or less, a
/// chain or set declared twice).
@Suite("nftables diff: the held-table shortcut")
struct NftDiffHeldTests {
    static let scope = NftScope(.named("t"), table: NftTableRef(.inet, "linx"))

    static let rules = ["tcp dport 22 accept", "udp dport 53 accept", "ip saddr @allow drop", "jump web", "drop", "ct state invalid drop"]
    static let elements = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]

    func desired(_ draw: inout SimRandom) -> NftTable {
        var table = NftTable()
        for name in ["input", "web", "output"] where draw.chance(0.7) {
            let base = name == "web" ? nil : NftBaseChain(type: .filter, hook: name == "input" ? .input : .output, policy: draw.chance(0.3) ? .drop : .accept)
            table.chains.append(NftChain(name, base: base, rules: Self.rules.filter { _ in draw.chance(0.4) }))
        }
        if draw.chance(0.6) { table.sets.append(NftSet("allow", type: "ipv4_addr", elements: Self.elements.filter { _ in draw.chance(0.6) })) }
        if draw.chance(0.3) { table.sets.append(NftSet("ports", type: "inet_service", flags: draw.chance(0.5) ? ["interval"] : [], elements: ["22", "80"])) }
        return table
    }

    /// `desired` as a kernel would list it, with one drawn difference (or none).
    func observed(_ desired: NftTable, _ draw: inout SimRandom) -> NftObservedTable {
        var content = desired
        switch draw.below(16) {
        case 0 where !content.chains.isEmpty:
            let c = draw.below(content.chains.count)
            content.chains[c].rules.append(draw.pick(Self.rules))
        case 1 where content.chains.contains { $0.rules.count > 1 }:
            let c = content.chains.firstIndex { $0.rules.count > 1 }!
            content.chains[c].rules.swapAt(0, 1)
        case 2 where content.chains.contains { $0.base != nil }:
            let c = content.chains.firstIndex { $0.base != nil }!
            content.chains[c].base!.policy = content.chains[c].base!.policy == .accept ? .drop : .accept
        case 3 where content.chains.contains { $0.base != nil }:
            let c = content.chains.firstIndex { $0.base != nil }!
            content.chains[c].base!.hook = .forward
        case 4 where !content.chains.isEmpty:
            content.chains[draw.below(content.chains.count)].base = draw.chance(0.5) ? nil : NftBaseChain(type: .filter, hook: .prerouting)
        case 5 where !content.sets.isEmpty:
            content.sets[0].elements = content.sets[0].elements.isEmpty ? ["10.9.9.9"] : Array(content.sets[0].elements.dropLast())
        case 6 where content.sets.contains { $0.elements.count > 1 }:
            let s = content.sets.firstIndex { $0.elements.count > 1 }!
            content.sets[s].elements.reverse()
        case 7 where !content.sets.isEmpty:
            content.sets[0].type = "ipv6_addr"
        case 8 where !content.sets.isEmpty:
            content.sets[0].flags = content.sets[0].flags.isEmpty ? ["interval"] : []
        case 9:
            content.chains.append(NftChain("extra", rules: ["drop"]))
        case 10 where !content.chains.isEmpty:
            content.chains.remove(at: draw.below(content.chains.count))
        case 11:
            content.sets.append(NftSet("extra", type: "ipv4_addr"))
        case 12 where content.chains.count > 1:
            content.chains.reverse()
        case 13 where !content.sets.isEmpty:
            content.sets[0].dataType = "verdict"
        default:
            break
        }
        var handle: UInt64 = 1
        func next() -> UInt64 { defer { handle += 1 }; return handle }
        return NftObservedTable(
            ref: Self.scope.table, comment: NftablesOptions.default.marker,
            chains: content.chains.map { chain in
                NftObservedChain(name: chain.name, base: chain.base, rules: chain.rules.map { NftObservedRule(handle: next(), text: $0) })
            },
            sets: content.sets)
    }

    func plans(_ desired: NftTable, _ table: NftObservedTable) -> (held: NftPlan, full: NftPlan) {
        let observation = NftObservation(generation: 7, table: table)
        return (
            NftDiff.plan(desired: desired, observed: observation, scope: Self.scope, options: .default),
            NftDiff.plan(desired: desired, observed: observation, scope: Self.scope, options: .default, settlingHeld: false)
        )
    }

    @Test("drawn desired and observed tables: the plan equals the full diff's", arguments: [1, 2, 3] as [UInt64])
    func sameAsFullDiff(seed: UInt64) {
        var draw = SimRandom(seed: seed)
        var held = 0, differing = 0
        for _ in 0..<3000 {
            var wanted = desired(&draw)
            // Now and then a desired chain or set declared twice (validation
            // refuses it; the diff must still not call it held).
            if draw.chance(0.05), let chain = wanted.chains.first { wanted.chains.append(chain) }
            if draw.chance(0.05), let set = wanted.sets.first { wanted.sets.append(set) }
            let table = observed(wanted, &draw)
            let (fast, full) = plans(wanted, table)
            #expect(fast.ops == full.ops && fast.commands == full.commands && fast.opOfCommand == full.opOfCommand, "\(wanted) vs \(table)")
            if NftDiff.holds(wanted, table) {
                held += 1
                #expect(full.ops.isEmpty && full.commands.isEmpty)
            } else if !full.ops.isEmpty {
                differing += 1
            }
        }
        #expect(held > 500 && differing > 500, "held \(held), differing \(differing)")
    }

    @Test("a desired chain declared twice next to an observed chain it does not have is not held")
    func duplicateNamesAreNotHeld() {
        let chain = NftChain("web", rules: ["drop"])
        let wanted = NftTable(chains: [chain, chain])
        let table = NftObservedTable(
            ref: Self.scope.table, comment: NftablesOptions.default.marker,
            chains: [NftObservedChain(name: "web", base: nil, rules: [NftObservedRule(handle: 1, text: "drop")]),
                     NftObservedChain(name: "other", base: nil, rules: [])])
        #expect(!NftDiff.holds(wanted, table))
        let (fast, full) = plans(wanted, table)
        #expect(fast.ops == full.ops && !full.ops.isEmpty)
    }
}
