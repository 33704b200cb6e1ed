import LinxReconcile
import Testing

/// Text that would end the nft command it is written into, refused before
/// anything reaches nft. The first case is what a hostile-input run found:
/// on the real kernel that set type flushed every table of the namespace,
/// the user's included, and the report said converged.
@Suite("nftables desired text stays inside its command")
struct NftDesiredTextTests {
    let ref = NftTableRef(.inet, "linx")
    let input = NftBaseChain(type: .filter, hook: .input)

    func refusal(_ table: NftTable) -> (reason: String, path: DesiredPath)? {
        do {
            try NftablesReconciler.validate(table, table: ref)
            return nil
        } catch {
            guard case .invalidDesired(_, let reason, let path) = error else { return ("\(error)", []) }
            return (reason, path ?? [])
        }
    }

    func rules(_ rules: String...) -> NftTable { NftTable(chains: [NftChain("input", base: input, rules: rules)]) }

    @Test("a set type, data type, flag or element that would end its command is refused, naming where")
    func setFields() throws {
        let flush = "ipv4_addr; }; flush ruleset; add table inet zz; add set inet zz s2 { type ipv4_addr"
        let cases: [(NftSet, DesiredPath, String)] = [
            (NftSet("s", type: flush), ["sets", .key("s"), "type"], "a newline or ';' in a set type"),
            (NftSet("s", type: "ipv4_addr }"), ["sets", .key("s"), "type"], "a '}' in a set type"),
            (NftSet("s", type: "ipv4_addr # x"), ["sets", .key("s"), "type"], "'#' outside quotes"),
            (NftSet("s", type: "ipv4_addr\u{0}"), ["sets", .key("s"), "type"], "a control character (U+0000)"),
            (NftSet("s", type: "ipv4_addr", dataType: "verdict; flush ruleset"), ["sets", .key("s"), "map"], "a newline or ';' in a set type"),
            (NftSet("s", type: "ipv4_addr", flags: ["interval; flush ruleset"]), ["sets", .key("s"), "flags", .index(0)], "invalid flag"),
            (NftSet("s", type: "ipv4_addr", elements: ["10.0.0.1", "10.0.0.2 }; flush ruleset; add element inet linx s { 10.0.0.3"]),
             ["sets", .key("s"), "elements", .index(1)], "one element per entry"),
            (NftSet("s", type: "ipv4_addr", elements: ["10.0.0.1 { 1"]), ["sets", .key("s"), "elements", .index(0)], "a '{' in a set element"),
            (NftSet("s", type: "ipv4_addr", elements: ["10.0.0.1\r"  + "x"]), ["sets", .key("s"), "elements", .index(0)], "a control character (U+000D)"),
        ]
        for (set, path, reason) in cases {
            let refused = try #require(refusal(NftTable(sets: [set])), "\(set)")
            #expect(refused.path == path && refused.reason.contains(reason), "\(set): \(refused)")
        }
    }

    @Test("a rule that would close its command's block, comment it out, cut it or leave a quote open is refused")
    func ruleFields() throws {
        let cases: [(String, String)] = [
            ("accept }", "a '}' that closes no '{' of the rule"),
            ("tcp dport { 22 accept", "a '{' that is never closed"),
            ("tcp dport 22 accept # }", "'#' outside quotes"),
            ("log prefix \"x accept", "a quote that is never closed"),
            ("log prefix \"a\\\" } \" accept", "a backslash before a quote"),
            ("accept\u{0}drop", "a control character (U+0000)"),
            ("accept\r\nflush ruleset", "a control character (U+000D): \"accept\\r\\nflush ruleset\""),
            ("accept\nflush ruleset", "one rule per entry (no newline or ';'): \"accept\\nflush ruleset\""),
            ("accept;\u{301} flush ruleset", "one rule per entry (no newline or ';')"),
        ]
        for (rule, reason) in cases {
            let refused = try #require(refusal(rules("ct state established accept", rule)), "\(rule.debugDescription)")
            #expect(refused.path == ["chains", .key("input"), "rules", .index(1)] && refused.reason.contains(reason), "\(rule.debugDescription): \(refused)")
        }
    }

    @Test("what nft users write is still accepted: sets and maps in rules, braces and '#' inside quotes, tabs, typeof, map elements")
    func ordinaryText() {
        let table = NftTable(
            chains: [NftChain("input", base: input, rules: [
                "tcp dport {443,80} accept", "ip saddr { 10.0.0.0/8, 192.168.0.0/16 } drop", "iifname \"lo\" accept",
                "log prefix \"{#} \" accept", "tcp\tdport 22 accept", "meta mark set 0x1", "tcp dport vmap { 22 : accept, 80 : drop }",
                "  ct state established,related accept\n",
            ])],
            sets: [
                NftSet("pairs", type: "typeof ip saddr . tcp dport", elements: ["10.0.0.1 . 22", " 10.0.0.2 . 80 "]),
                NftSet("verdicts", type: "ipv4_addr", dataType: "verdict", flags: ["interval"], elements: ["10.0.0.0/8 : accept"]),
                NftSet("names", type: "ifname", elements: ["\"eth0\""]),
            ])
        #expect(refusal(table) == nil)
    }
}
