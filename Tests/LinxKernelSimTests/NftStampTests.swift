@testable import LinxKernelSim
import LinxReconcile
import Testing

/// A namespace's nf_tables stamp names what its tables hold: readers that
/// kept what they made of a listing (the conformance subject's snapshots)
/// reuse it while the stamp holds. Checked against listings made afresh.
@Suite("simulated nf_tables: the tables' stamp")
struct NftStampTests {
    let ours = NftTableRef(.inet, "t")
    let other = NftTableRef(.ip, "o")
    let input = NftBaseChain(type: .filter, hook: .input)

    /// Every table of `scope`, as listed now.
    func listing(_ kernel: SimKernel, _ scope: NetnsScope) -> [NftObservedTable?] {
        kernel.nftTables(in: scope).map { kernel.nftTable($0, in: scope) }
    }

    /// One drawn batch: mostly valid, some refused (missing chain, bad
    /// rule, busy set, an `iif` name of a link that is gone), some that
    /// change nothing (an empty batch, a rule element added twice).
    func batch(_ random: inout SimRandom, table: NftTableRef) -> [NftCommand] {
        let rules = [
            "tcp dport 22 accept", "udp dport 53 accept", "ip saddr @s drop", "jump reg", "bogus rule", "tcp dport ssh accept",
            "iif \"v0\" accept", "oif { lo, 3 } accept",
        ]
        switch random.below(10) {
        case 0: return [.addTable(table, flags: [], comment: random.chance(0.5) ? "linx" : nil)]
        case 1: return [.addTable(table, flags: [], comment: nil), .addChain(table, name: "in", base: input), .addChain(table, name: "reg", base: nil)]
        case 2, 3: return [.addRule(table, chain: random.pick(["in", "reg", "nochain"]), rule: random.pick(rules), before: nil)]
        case 4: return [.addSet(table, NftSet("s", type: "ipv4_addr")), .addElements(table, set: "s", [random.pick(["10.0.0.1", "10.0.0.2"])])]
        case 5: return [.deleteElements(table, set: "s", [random.pick(["10.0.0.1", "10.0.0.2"])])]
        case 6: return [.deleteSet(table, name: "s")]
        case 7: return [.addChain(table, name: "in", base: NftBaseChain(type: .filter, hook: .input, policy: random.chance(0.5) ? .drop : .accept))]
        case 8: return random.chance(0.5) ? [] : [.deleteChain(table, name: random.pick(["reg", "in"]))]
        default: return [.deleteTable(table)]
        }
    }

    @Test("seeded commits, refusals, empty commits, owner sockets, races and reboots: a stamp names one listing", arguments: [1, 2, 3] as [UInt64])
    func stampNamesOneListing(seed: UInt64) async throws {
        let kernel = SimKernel(seed: seed)
        let scope = NetnsScope.named("stamps")
        try kernel.createNamespace(scope)
        var random = SimRandom(seed: seed)
        var seen: [UInt64: [NftObservedTable?]] = [:]
        var last: (stamp: UInt64, listing: [NftObservedTable?])?
        var owner = kernel.nftSocket()
        var changes = 0, kept = 0
        for step in 0..<800 {
            let table = random.chance(0.7) ? ours : other
            switch random.below(10) {
            case 0...4:
                _ = try? await kernel.commit(batch(&random, table: table), expecting: kernel.nftGeneration(in: scope)!, in: scope)
            case 5: _ = try? kernel.nftSocket().commit(batch(&random, table: table), in: scope)
            case 6:
                // An owner table of another socket, gone (or orphaned) when it closes.
                let flags: NftTableFlags = random.chance(0.5) ? [.owner] : [.owner, .persist]
                _ = try? owner.commit([.addTable(NftTableRef(.inet, "owned"), flags: flags, comment: nil)], in: scope)
                if random.chance(0.5) {
                    owner.close()
                    owner = kernel.nftSocket()
                }
            case 7:
                kernel.raceNextNftCommits(1, in: scope, with: random.chance(0.5) ? [] : batch(&random, table: other))
                _ = try? await kernel.commit(batch(&random, table: table), expecting: kernel.nftGeneration(in: scope)!, in: scope)
            case 8 where step % 7 == 0: kernel.reboot()
            case 9 where step % 3 == 0:
                // A link that comes and goes: `iif "v0"` and `oif 3` list its
                // name while it is there (the pair takes 2 and 3 the first
                // time), the number after.
                if kernel.ifindex(of: "v0", in: scope) == nil {
                    _ = try? kernel.addVethPair("v0", "v1", in: scope)
                } else {
                    try? kernel.removeLink("v0", in: scope)
                }
            default: _ = try? await kernel.commit([], expecting: kernel.nftGeneration(in: scope)!, in: scope)
            }
            let listing = listing(kernel, scope)
            // Kept listings (and an observation) are what the tables hold now.
            let fresh = kernel.state.withLock { s in s.namespaces[scope]!.nftables.tables.map { s.namespaces[scope]!.nftables.observed($0.ref, links: s.namespaces[scope]!.linkNames) } }
            #expect(listing == fresh, "a kept listing differs from the tables at step \(step)")
            if let observation = try? await kernel.observeTable(ours, in: scope) {
                #expect(observation.table == kernel.state.withLock { $0.namespaces[scope]!.nftables.observed(ours, links: $0.namespaces[scope]!.linkNames) }, "step \(step)")
            }
            let stamp = try kernel.nftStamp(of: scope)
            #expect(try kernel.nftStamp(of: scope) == stamp, "reading changed the stamp at step \(step)")
            if let known = seen[stamp] {
                #expect(known == listing, "stamp \(stamp) names two listings at step \(step)")
            }
            seen[stamp] = listing
            if let last {
                if last.listing != listing {
                    changes += 1
                    #expect(last.stamp != stamp, "the listing changed under the same stamp at step \(step)")
                } else if last.stamp == stamp {
                    kept += 1
                }
            }
            last = (stamp, listing)
        }
        // Both sides of the contract were exercised.
        #expect(changes > 100 && kept > 100, "changes \(changes), kept \(kept)")
    }

    @Test("a stamp is never reused for other contents, in another namespace or another kernel")
    func stampsAreProcessUnique() async throws {
        let a = SimKernel(seed: 1), b = SimKernel(seed: 1)
        let x = NetnsScope.named("x")
        try a.createNamespace(x)
        try b.createNamespace(x)
        let emptyA = try a.nftStamp(of: x), emptyB = try b.nftStamp(of: x)
        _ = try await a.commit([.addTable(ours, flags: [], comment: nil)], expecting: a.nftGeneration(in: x)!, in: x)
        _ = try await b.commit([.addTable(other, flags: [], comment: nil)], expecting: b.nftGeneration(in: x)!, in: x)
        let stamps = [emptyA, emptyB, try a.nftStamp(of: x), try b.nftStamp(of: x), try a.nftStamp(of: .current)]
        #expect(Set(stamps).count == stamps.count)
        // A refused commit and an empty one change nothing: the stamp holds.
        let held = try a.nftStamp(of: x)
        _ = try? await a.commit([.addChain(ours, name: "c", base: nil), .deleteChain(ours, name: "missing")], expecting: a.nftGeneration(in: x)!, in: x)
        _ = try await a.commit([], expecting: a.nftGeneration(in: x)!, in: x)
        #expect(try a.nftStamp(of: x) == held)
    }
}
