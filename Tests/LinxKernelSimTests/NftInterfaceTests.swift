import LinxKernelSim
import LinxReconcile
import SystemPackage
import Testing

/// `iif`/`oif` on the simulator: resolved against the links of the rule's
/// namespace when nft checks the rule, kept as an index, named again at
/// every listing.
///
/// Observed with nft 1.0.6 (the `nft` command, as libnftables, which
/// LinuxKernel uses) on Linux 6.18, in throwaway namespaces `ip netns add
/// linx-probe-iifN` with `ip link add pa0 type veth peer name pa1` (lo 1,
/// pa1 2, pa0 3), a table `inet t` and a chain `c`, each rule added on its
/// own with `nft add rule inet t c RULE` and listed with `nft -s list
/// table inet t`:
/// - `iif "pa0"` / `oif pa1` / `meta iif "pa0"` / `meta oif lo` list as
///   `iif "pa0"` / `oif "pa1"` / `iif "pa0"` / `oif "lo"`;
/// - `iif "zz9"`, `iif "Lo"`, `iif abcdefghijklmnopq`, `iif 2147483648`,
///   `iif { "lo", "zz9" }`: rc 1 "Error: Interface does not exist" (also
///   under `nft -c`), nothing committed;
/// - `iif 7` lists as `iif 7`, `iif 2` as `iif "pa1"`, `iif 05` as
///   `iif 5`, `iif ""` as `iif 0`, `iif 0` as `iif 0`; `iifname "zz9"` is
///   accepted and listed as written;
/// - `iif { pa1, lo, pa0 }` lists as `iif { "lo", "pa1", "pa0" }` (index
///   order), `iif { lo, 1 }` as `iif { "lo" }`, `iif { pa0 }` as
///   `iif "pa0"`, `iif != { lo }` as `iif != "lo"`; `tcp dport { 22 }` as
///   `tcp dport 22`, `tcp dport { 22, 22 }` as `tcp dport { 22 }`;
/// - after `ip link del pa0` (pa1 goes with it) the same rules list as
///   `iif 3`, `oif 2`, `iif { "lo", 3 }`, `iif != 3`; a veth pair made
///   next takes 4 and 5 and the listing stays as it was;
/// - with a veth pair named `7` (3) / `8` (2): `iif 7` lists as `iif "7"`,
///   `iif { 3, 2 }` as `iif { "8", "7" }`.
@Suite("simulated nf_tables: iif/oif name links")
struct NftInterfaceTests {
    let t = NftTableRef(.inet, "t")
    let scope = NetnsScope.named("probe")

    /// A kernel whose `probe` namespace holds lo, pa1 (2), pa0 (3) and the
    /// table `inet t` with chain `c`.
    func probe() async throws -> SimKernel {
        let kernel = SimKernel(seed: 1)
        try kernel.createNamespace(scope)
        // Numbered as `ip link add pa0 type veth peer name pa1` numbered
        // them: the peer first.
        let (a, b) = try kernel.addVethPair("pa1", "pa0", in: scope)
        #expect(a == 2 && b == 3)
        try await commit(kernel, [.addTable(t, flags: [], comment: nil), .addChain(t, name: "c", base: nil)])
        return kernel
    }

    func commit(_ kernel: SimKernel, _ commands: [NftCommand], in scope: NetnsScope? = nil) async throws(NftTransactionError) {
        let scope = scope ?? self.scope
        _ = try await kernel.commit(commands, expecting: kernel.nftGeneration(in: scope)!, in: scope)
    }

    func add(_ kernel: SimKernel, _ rules: [String], in scope: NetnsScope? = nil) async throws(NftTransactionError) {
        try await commit(kernel, rules.map { .addRule(t, chain: "c", rule: $0, before: nil) }, in: scope)
    }

    func rules(_ kernel: SimKernel, in scope: NetnsScope? = nil) -> [String] {
        kernel.nftTable(t, in: scope ?? self.scope)?.chains.first?.rules.map(\.text) ?? []
    }

    @Test("a name resolves to the link of the rule's namespace; a number is taken as is; iifname is never resolved")
    func resolves() async throws {
        let kernel = try await probe()
        try await add(kernel, [
            "iif \"pa0\" accept", "oif pa1 accept", "meta iif \"pa0\" accept", "meta oif lo accept", "iif 7 accept", "iif 2 accept",
            "iif 05 accept", "iif \"\" accept", "iif 0 accept", "iifname \"zz9\" accept", "iif != pa0 accept", "iif pa0 oif pa1 accept",
        ])
        #expect(rules(kernel) == [
            "iif \"pa0\" accept", "oif \"pa1\" accept", "iif \"pa0\" accept", "oif \"lo\" accept", "iif 7 accept", "iif \"pa1\" accept",
            "iif 5 accept", "iif 0 accept", "iif 0 accept", "iifname \"zz9\" accept", "iif != \"pa0\" accept", "iif \"pa0\" oif \"pa1\" accept",
        ])
    }

    @Test("a name no link has is refused as nft refuses it (EINVAL, before the kernel sees the batch), and nothing is committed")
    func unknownNameRefused() async throws {
        let kernel = try await probe()
        for rule in ["iif \"zz9\" accept", "oif zz9 accept", "iif \"Lo\" accept", "iif abcdefghijklmnopq accept", "iif 2147483648 accept", "iif { \"lo\", \"zz9\" } accept", "meta iif zz9 accept"] {
            let generation = kernel.nftGeneration(in: scope)
            let error = await #expect(throws: NftTransactionError.self, "\(rule)") { try await add(kernel, ["accept", rule]) }
            #expect(error?.error.errno == .invalidArgument && error?.index == 1 && error?.error.message == "Interface does not exist", "\(rule)")
            #expect(kernel.nftGeneration(in: scope) == generation && rules(kernel).isEmpty, "\(rule)")
        }
        // nft's own refusal wins over the kernel's at an earlier command.
        let error = await #expect(throws: NftTransactionError.self) {
            try await commit(kernel, [.deleteChain(t, name: "missing"), .addRule(t, chain: "c", rule: "iif zz9 accept", before: nil)])
        }
        #expect(error?.error.errno == .invalidArgument && error?.index == 1)
    }

    @Test("the rule keeps the index: after the link goes it lists as the number, and a new link does not take it")
    func linkDeleted() async throws {
        let kernel = try await probe()
        try await add(kernel, ["iif \"pa0\" accept", "oif pa1 accept", "iif { lo, pa0 } accept", "iif != pa0 accept", "iifname pa0 accept"])
        let stamp = try kernel.nftStamp(of: scope)
        let generation = kernel.nftGeneration(in: scope)
        try kernel.removeLink("pa0", in: scope)
        #expect(rules(kernel) == ["iif 3 accept", "oif 2 accept", "iif { \"lo\", 3 } accept", "iif != 3 accept", "iifname \"pa0\" accept"])
        // The listing changed without a commit: the stamp moved, the generation did not.
        #expect(try kernel.nftStamp(of: scope) != stamp)
        #expect(kernel.nftGeneration(in: scope) == generation)
        #expect(try await kernel.observeTable(t, in: scope).table?.chains.first?.rules.first?.text == "iif 3 accept")
        let (a, b) = try kernel.addVethPair("pb0", "pb1", in: scope)
        #expect(a > 3 && b > 3)
        #expect(rules(kernel) == ["iif 3 accept", "oif 2 accept", "iif { \"lo\", 3 } accept", "iif != 3 accept", "iifname \"pa0\" accept"])
        // The name is gone: the same text is refused now.
        await #expect(throws: NftTransactionError.self) { try await add(kernel, ["iif \"pa0\" accept"]) }
    }

    @Test("a number names the link that comes to have that index")
    func numberNamesLaterLink() async throws {
        let kernel = try await probe()
        try await add(kernel, ["iif 4 accept"])
        #expect(rules(kernel) == ["iif 4 accept"])
        try kernel.addLink("late", in: scope)
        #expect(rules(kernel) == ["iif \"late\" accept"])
    }

    @Test("a set resolves each element: listed in index order, duplicates of one index once, one element as no set")
    func sets() async throws {
        let kernel = try await probe()
        try await add(kernel, [
            "iif { pa1, lo, pa0 } accept", "iif { lo, 1 } accept", "iif { pa0 } accept", "iif != { lo } accept", "oif { lo, 7 } accept",
            "tcp dport { 22 } accept", "tcp dport { 22, 22 } accept",
        ])
        #expect(rules(kernel) == [
            "iif { \"lo\", \"pa1\", \"pa0\" } accept", "iif { \"lo\" } accept", "iif \"pa0\" accept", "iif != \"lo\" accept",
            "oif { \"lo\", 7 } accept", "tcp dport 22 accept", "tcp dport { 22 } accept",
        ])
    }

    @Test("a link's name wins over the number it spells")
    func nameBeforeNumber() async throws {
        let kernel = SimKernel(seed: 1)
        try kernel.createNamespace(scope)
        try kernel.addVethPair("8", "7", in: scope)
        try await commit(kernel, [.addTable(t, flags: [], comment: nil), .addChain(t, name: "c", base: nil)])
        try await add(kernel, ["iif 7 accept", "iif \"7\" accept", "iif 2 accept", "iif { 3, 2 } accept"])
        #expect(rules(kernel) == ["iif \"7\" accept", "iif \"7\" accept", "iif \"8\" accept", "iif { \"8\", \"7\" } accept"])
    }

    @Test("the same rule text resolves in each namespace against its own links (the parse memo holds no link)")
    func perNamespace() async throws {
        let kernel = try await probe()
        let other = NetnsScope.named("other")
        try kernel.createNamespace(other)
        try await commit(kernel, [.addTable(t, flags: [], comment: nil), .addChain(t, name: "c", base: nil)], in: other)
        // Both orders: the text parsed first where it resolves, and first where it does not.
        for rule in ["iif \"pa0\" tcp dport 1 accept", "oif pa1 tcp dport 2 accept"] {
            try await add(kernel, [rule])
            await #expect(throws: NftTransactionError.self) { try await add(kernel, [rule], in: other) }
        }
        for rule in ["iif \"pa0\" tcp dport 3 accept", "oif pa1 tcp dport 4 accept"] {
            await #expect(throws: NftTransactionError.self) { try await add(kernel, [rule], in: other) }
            try await add(kernel, [rule])
        }
        // The same index is another link, or none, elsewhere.
        try kernel.addLink("x0", in: other)
        try await add(kernel, ["iif 2 accept"], in: other)
        try await add(kernel, ["iif 2 accept"])
        #expect(rules(kernel, in: other) == ["iif \"x0\" accept"])
        #expect(rules(kernel).last == "iif \"pa1\" accept")
    }

    @Test("canonicalising checks the table against the scope's links, as the real kernel checks it where it will live")
    func canonicalizeInScope() async throws {
        let kernel = try await probe()
        let table = NftTable(chains: [NftChain("c", rules: ["iif pa0 accept", "oif { lo, 2 } accept"])])
        let canonical = try await kernel.canonicalize(table, as: t, in: scope)
        #expect(canonical.chains.first?.rules == ["iif \"pa0\" accept", "oif { \"lo\", \"pa1\" } accept"])
        let refused = await #expect(throws: NftTransactionError.self) { _ = try await kernel.canonicalize(table, as: t, in: .current) }
        #expect(refused?.error.errno == .invalidArgument && refused?.object?.contains("rule 1") == true)
    }

    @Test("a rule holding NUL is refused (nft reads a C string; the simulator marks operands with NUL)")
    func nulRefused() async throws {
        let kernel = try await probe()
        let error = await #expect(throws: NftTransactionError.self) { try await add(kernel, ["iif lo accept comment \"a\u{0}b\""]) }
        #expect(error?.error.errno == .invalidArgument)
    }
}
