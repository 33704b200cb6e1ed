@testable import LinxLinux
import LinxReconcile
import Testing

/// How a transaction is written for libnftables (no kernel needed).
@Suite("nft script")
struct NftScriptTests {
    let t = NftTableRef(.inet, "linx")

    /// The reconciler refuses such text in a desired table; a caller of the
    /// backend gets the same refusal, from the script, and nft sees nothing.
    @Test("a command whose text would end it early is the script's refusal, and the script has no text")
    func refusesEscapingText() {
        let fine: [NftCommand] = [.addTable(t, flags: [], comment: "linx"), .addChain(t, name: "input", base: nil)]
        #expect(NftScript(fine + [.addRule(t, chain: "input", rule: "tcp dport {22, 80} accept", before: nil)]).refusal == nil)
        let hostile: [NftCommand] = [
            .addSet(t, NftSet("s", type: "ipv4_addr; }; flush ruleset; add table inet zz; add set inet zz s2 { type ipv4_addr")),
            .addRule(t, chain: "input", rule: "accept }", before: nil),
            .addRule(t, chain: "input { type filter hook input priority 0; }; flush ruleset; add chain inet linx x", rule: "accept", before: nil),
            .addElements(t, set: "s", ["10.0.0.1 }; flush ruleset; add element inet linx s { 10.0.0.2"]),
            .deleteTable(NftTableRef(.inet, "linx; flush ruleset")),
        ]
        for command in hostile {
            let script = NftScript(fine + [command])
            #expect(script.refusal?.command == 2 && script.text.isEmpty, "\(command): \(String(describing: script.refusal))")
        }
    }

    @Test("rules added to a chain the batch creates are that chain's block; each line names its command")
    func folds() {
        let commands: [NftCommand] = [
            .addTable(t, flags: [], comment: "linx"),
            .addChain(t, name: "input", base: NftBaseChain(type: .filter, hook: .input)),
            .addRule(t, chain: "input", rule: "tcp dport 22 accept", before: nil),
            .addRule(t, chain: "input", rule: "comment \"only a comment\"", before: nil),
            .addRule(t, chain: "input", rule: "udp dport 53 accept", before: nil),
            .addRule(t, chain: "old", rule: "counter", before: nil),
            .addRule(t, chain: "input", rule: "drop", before: 7),
        ]
        let script = NftScript(commands)
        #expect(script.text == """
            add table inet linx { comment "linx"; }
            add chain inet linx input { type filter hook input priority 0; policy accept; }
            add chain inet linx input {
            tcp dport 22 accept
            }
            add rule inet linx input comment "only a comment"
            add chain inet linx input {
            udp dport 53 accept
            }
            add rule inet linx old counter
            insert rule inet linx input position 7 drop

            """)
        #expect(script.commandOfLine == [0, 1, 2, 2, 2, 3, 4, 4, 4, 5, 6])
    }

    @Test("a rule using a named set, and one for a chain the batch deleted again, are `add rule` lines")
    func setsAndDeletedChains() {
        let commands: [NftCommand] = [
            .addChain(t, name: "c", base: nil),
            .addRule(t, chain: "c", rule: "ip saddr @s drop", before: nil),
            .addRule(t, chain: "c", rule: "accept", before: nil),
            .deleteChain(t, name: "c"),
            .addRule(t, chain: "c", rule: "accept", before: nil),
            .addChain(t, name: "d", base: nil),
            .deleteTable(t),
            .addRule(t, chain: "d", rule: "accept", before: nil),
        ]
        let script = NftScript(commands)
        #expect(script.text == """
            add chain inet linx c
            add rule inet linx c ip saddr @s drop
            add chain inet linx c {
            accept
            }
            delete chain inet linx c
            add rule inet linx c accept
            add chain inet linx d
            delete table inet linx
            add rule inet linx d accept

            """)
        #expect(script.commandOfLine == [0, 1, 2, 2, 2, 3, 4, 5, 6, 7])
    }

    @Test("the byte check of a rule's first word agrees with the word-by-word one")
    func foldableMatchesTheWordCheck() {
        // The check before it compared the first word (up to a space or tab)
        // with each keyword as a string.
        let keywords = [
            "type", "hook", "priority", "policy", "comment", "flags", "device", "devices",
            "define", "redefine", "undefine", "include", "}",
        ]
        func reference(_ rule: String) -> Bool {
            let first = rule.utf8.prefix { $0 != 0x20 && $0 != 0x09 }
            return !keywords.contains { $0.utf8.elementsEqual(first) }
        }
        var rules = ["", " ", "\t", "ip saddr 10.0.0.1 accept", "}", "} x", "ü", "tÿpe x", "counter", "priorityx 1"]
        for keyword in keywords {
            rules += [keyword, keyword + " x", keyword + "\tx", keyword + "s", String(keyword.dropLast()), "x" + keyword, keyword.uppercased()]
        }
        for rule in rules {
            #expect(NftScript.foldable(rule) == reference(rule), "\(rule)")
        }
    }
}
