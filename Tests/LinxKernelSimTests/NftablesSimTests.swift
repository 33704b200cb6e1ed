import LinxKernelSim
import LinxReconcile
import SystemPackage
import Testing

/// nf_tables on the simulator. Every behaviour here was first observed on
/// Linux 6.18 with nft 1.0.6 and raw netlink in a throwaway namespace (the
/// same sequences run on the real kernel in LinxLinuxTests' nftables tests).
@Suite("simulated nf_tables")
struct NftablesSimTests {
    let t = NftTableRef(.inet, "t")
    let input = NftBaseChain(type: .filter, hook: .input, priority: 0, policy: .accept)

    func commit(_ kernel: SimKernel, _ commands: [NftCommand]) async throws(NftTransactionError) {
        _ = try await kernel.commit(commands, expecting: kernel.nftGeneration()!, in: .current)
    }

    @Test("every commit bumps the namespace's generation; a stale generation is ERESTART and changes nothing")
    func generation() async throws {
        let kernel = SimKernel(seed: 1)
        let g0 = try #require(kernel.nftGeneration())
        try await commit(kernel, [.addTable(t, flags: [], comment: nil)])
        #expect(kernel.nftGeneration() == g0 + 1)
        let other = NftTableRef(.ip, "other")
        try kernel.nftSocket().commit([.addTable(other, flags: [], comment: nil)])
        #expect(kernel.nftGeneration() == g0 + 2)
        let error = await #expect(throws: NftTransactionError.self) {
            _ = try await kernel.commit([.addChain(t, name: "c", base: nil)], expecting: g0 + 1, in: .current)
        }
        #expect(error?.isStaleGeneration == true && error?.error.errno == .restart && error?.index == nil)
        #expect(kernel.nftTable(t)?.chains.isEmpty == true)
        #expect(kernel.nftGeneration() == g0 + 2)
    }

    @Test("a batch is one transaction: a refused command refuses it all, with its index and errno")
    func allOrNothing() async throws {
        let kernel = SimKernel(seed: 1)
        try await commit(kernel, [.addTable(t, flags: [], comment: nil), .addChain(t, name: "in", base: input)])
        let before = kernel.nftGeneration()
        let error = await #expect(throws: NftTransactionError.self) {
            try await commit(kernel, [
                .addRule(t, chain: "in", rule: "tcp dport 22 accept", before: nil),
                .addRule(t, chain: "in", rule: "jump nochain", before: nil),
            ])
        }
        #expect(error?.index == 1 && error?.error.errno == .noSuchFileOrDirectory)
        #expect(kernel.nftTable(t)?.chains.first?.rules.isEmpty == true)
        #expect(kernel.nftGeneration() == before)
    }

    @Test("references: a jumped-to chain and a used set are EBUSY; deleting a chain takes its rules; a hook change is EOPNOTSUPP")
    func references() async throws {
        let kernel = SimKernel(seed: 1)
        try await commit(kernel, [
            .addTable(t, flags: [], comment: nil), .addChain(t, name: "in", base: input), .addChain(t, name: "reg", base: nil),
            .addSet(t, NftSet("s", type: "ipv4_addr")),
            .addRule(t, chain: "in", rule: "jump reg", before: nil), .addRule(t, chain: "in", rule: "ip saddr @s drop", before: nil),
        ])
        await #expect(throws: NftTransactionError.self) { try await commit(kernel, [.deleteChain(t, name: "reg")]) }
        let busy = await #expect(throws: NftTransactionError.self) { try await commit(kernel, [.deleteSet(t, name: "s")]) }
        #expect(busy?.error.errno == .resourceBusy)
        let hook = await #expect(throws: NftTransactionError.self) {
            try await commit(kernel, [.addChain(t, name: "in", base: NftBaseChain(type: .filter, hook: .output))])
        }
        #expect(hook?.error.errno == .notSupported)
        let retype = await #expect(throws: NftTransactionError.self) {
            try await commit(kernel, [.addSet(t, NftSet("s", type: "ipv6_addr"))])
        }
        #expect(retype?.error.errno == .fileExists)
        try await commit(kernel, [.addChain(t, name: "in", base: NftBaseChain(type: .filter, hook: .input, policy: .drop))])
        #expect(kernel.nftTable(t)?.chains.first?.base?.policy == .drop)
        try await commit(kernel, [.deleteChain(t, name: "in"), .deleteChain(t, name: "reg"), .deleteSet(t, name: "s")])
        #expect(kernel.nftTable(t)?.chains.isEmpty == true && kernel.nftTable(t)?.sets.isEmpty == true)
    }

    @Test("owner flag: another socket gets EPERM; the table goes when its socket closes, or is orphaned with persist")
    func ownership() async throws {
        let kernel = SimKernel(seed: 1)
        let agent = kernel.nftSocket(), other = kernel.nftSocket()
        try agent.commit([.addTable(t, flags: [.owner], comment: nil)])
        let denied = #expect(throws: NftTransactionError.self) { try other.commit([.deleteTable(t)]) }
        #expect(denied?.error.errno == .notPermitted)
        #expect(throws: NftTransactionError.self) { try other.commit([.addChain(t, name: "c", base: nil)]) }
        agent.close()
        #expect(kernel.nftTable(t) == nil)

        let kept = NftTableRef(.inet, "kept")
        let second = kernel.nftSocket()
        try second.commit([.addTable(kept, flags: [.owner, .persist], comment: nil)])
        #expect(throws: NftTransactionError.self) { try other.commit([.deleteTable(kept)]) }
        second.close()
        #expect(kernel.nftTable(kept) != nil)
        try other.commit([.deleteTable(kept)])
        #expect(kernel.nftTable(kept) == nil)
    }

    @Test("rules list the way nft 1.0.6 prints them")
    func printing() async throws {
        let kernel = SimKernel(seed: 1)
        let ip = NftTableRef(.ip, "z")
        let written = [
            "tcp dport {443, 80, 22} accept", "ct state related,established,new accept", "ip protocol 6 accept",
            "meta l4proto 17 accept", "tcp dport ssh accept", "ip saddr 10.0.0.1/8 drop", "iifname eth0 oif lo accept",
            "tcp dport 1000-2000 counter drop", "udp sport != 53 log prefix \"x: \" drop", "ip daddr { 10.0.0.2, 10.0.0.1 } return",
            "tcp dport == 22 accept", "meta iifname \"lo\" accept", "ip protocol tcp tcp dport 22 accept", "accept comment \"hello\"",
        ]
        let listed = [
            "tcp dport { 22, 80, 443 } accept", "ct state established,related,new accept", "ip protocol tcp accept",
            "meta l4proto udp accept", "tcp dport 22 accept", "ip saddr 10.0.0.0/8 drop", "iifname \"eth0\" oif \"lo\" accept",
            "tcp dport 1000-2000 counter drop", "udp sport != 53 log prefix \"x: \" drop", "ip daddr { 10.0.0.1, 10.0.0.2 } return",
            "tcp dport 22 accept", "iifname \"lo\" accept", "tcp dport 22 accept", "accept comment \"hello\"",
        ]
        let table = try await kernel.canonicalize(
            NftTable(chains: [NftChain("c", rules: written)], sets: [NftSet("s", type: "inet_service", elements: ["443", "80", "22"])]),
            as: ip, in: .current)
        #expect(table.chains.first?.rules == listed)
        #expect(table.sets.first?.elements == ["22", "80", "443"])
        // In an inet table the protocol match stays (nft 1.0.6 keeps it).
        let inet = try await kernel.canonicalize(NftTable(chains: [NftChain("c", rules: ["ip protocol tcp tcp dport 22 accept"])]), as: t, in: .current)
        #expect(inet.chains.first?.rules == ["ip protocol tcp tcp dport 22 accept"])
        let refused = await #expect(throws: NftTransactionError.self) {
            _ = try await kernel.canonicalize(NftTable(chains: [NftChain("c", rules: ["accept", "tcp dport frob accept"])]), as: t, in: .current)
        }
        #expect(refused?.error.errno == .invalidArgument && refused?.object?.contains("rule 2") == true)
        #expect(kernel.nftTables().isEmpty)
    }

    @Test("a racing writer commits first: the pass's generation is stale")
    func race() async throws {
        let kernel = SimKernel(seed: 1)
        let g = try #require(kernel.nftGeneration())
        kernel.raceNextNftCommits(1, with: [.addTable(NftTableRef(.ip, "theirs"), flags: [], comment: nil)])
        let error = await #expect(throws: NftTransactionError.self) {
            _ = try await kernel.commit([.addTable(t, flags: [], comment: nil)], expecting: g, in: .current)
        }
        #expect(error?.isStaleGeneration == true)
        #expect(kernel.nftTables() == [NftTableRef(.ip, "theirs")])
        #expect(kernel.nftFaultsFired[.generationRace] == 1)
    }

    @Test("monitors see every commit and an overflow")
    func monitor() async throws {
        let kernel = SimKernel(seed: 1)
        let events = try await kernel.nftEvents(in: .current)
        var iterator = events.makeAsyncIterator()
        try await commit(kernel, [.addTable(t, flags: [], comment: nil)])
        #expect(try await iterator.next() == .changed)
        kernel.overflowNftMonitors()
        #expect(try await iterator.next() == .overflow)
    }
}
