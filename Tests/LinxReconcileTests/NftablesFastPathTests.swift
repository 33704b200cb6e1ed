@testable import LinxReconcile
import Testing

/// The byte-level checks of nftables validation give what the
/// Character- and scalar-level rules give, on generated texts mixing ASCII
/// with the cases where bytes and Characters differ.
@Suite("nftables validation fast paths")
struct NftablesFastPathTests {
    static let pieces = [
        "a", "Z", "web", "0", "9", "_", "-", ".", "/", " ", "\t", "\n", "\r", "\r\n", "\u{0B}", "\u{0C}", "\u{1C}",
        "\u{85}", "\u{A0}", "\u{2028}", "\u{3000}", "é", "e\u{301}", " \u{301}", "\u{600}", "\u{600} ", ";", ",", "}",
        "ª", "Ω", "ǅ",
    ]

    static func texts(count: Int, seed: UInt64) -> [String] {
        generatedTexts(from: pieces, count: count, maxPieces: 7, seed: seed)
    }

    /// nft's identifier rule as first written, on Unicode scalars.
    static func referenceIsName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII, name.utf8.count <= 255 else {
            return false
        }
        return name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-./".unicodeScalars.contains($0))
        }
    }

    @Test("names: the byte check agrees with the scalar rule")
    func names() {
        var accepted = 0
        for text in Self.texts(count: 20_000, seed: 16) + [String(repeating: "a", count: 255), String(repeating: "a", count: 256)] {
            #expect(NftDesiredText.isName(text) == Self.referenceIsName(text), "\(String(reflecting: text))")
            if NftDesiredText.isName(text) { accepted += 1 }
        }
        #expect(accepted > 200)
    }

    @Test("trimming: the ASCII shortcut agrees with trimming Characters")
    func trimming() {
        var trimmed = 0
        for text in Self.texts(count: 20_000, seed: 17) + ["tcp dport 22 accept", " x", "x ", "\r\n", ""] {
            #expect(text.trimmingWhitespace == text.trimmingWhitespaceCharacters, "\(String(reflecting: text))")
            if text.trimmingWhitespaceCharacters != text { trimmed += 1 }
        }
        #expect(trimmed > 2_000)
    }

    /// Decided on bytes, as nft's scanner reads them: a `;` or a newline
    /// that shares a Character with a combining mark (or CR LF) still ends
    /// nft's command. The pieces have no quote, `#` or `{`, so here a `}`
    /// always closes more than a rule opened.
    @Test("a rule with a newline, ';', '}' or control scalar, an element also with ',', is refused: by scalar, whatever the Characters")
    func separators() {
        let input = NftBaseChain(type: .filter, hook: .input)
        func isControl(_ scalar: Unicode.Scalar) -> Bool { (scalar.value < 0x20 && scalar != "\t") || scalar.value == 0x7F }
        var refusedRules = 0
        for text in Self.texts(count: 4_000, seed: 18) where !text.trimmingWhitespace.isEmpty {
            let scalars = text.trimmingWhitespaceCharacters.unicodeScalars
            let ruleRefused = scalars.contains { isControl($0) || $0 == ";" || $0 == "}" }
            let rule = NftTable(chains: [NftChain("input", base: input, rules: [text])])
            #expect(refuses(ruleRefused) { try NftablesReconciler.validate(rule, table: NftTableRef(.inet, "t")) }, "\(String(reflecting: text))")
            let elementRefused = ruleRefused || scalars.contains(",")
            let set = NftTable(sets: [NftSet("s", type: "ipv4_addr", elements: [text])])
            #expect(refuses(elementRefused) { try NftablesReconciler.validate(set, table: NftTableRef(.inet, "t")) }, "\(String(reflecting: text))")
            if ruleRefused { refusedRules += 1 }
        }
        #expect(refusedRules > 500 && refusedRules < 3_500)
    }

    private func refuses(_ expected: Bool, _ body: () throws -> Void) -> Bool {
        do {
            try body()
            return !expected
        } catch {
            return expected
        }
    }
}
