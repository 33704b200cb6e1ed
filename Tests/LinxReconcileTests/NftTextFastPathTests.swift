@testable import LinxReconcile
import Testing

/// Text the nftables paths print on every pass, made without the slow
/// general route: `NftSyntax.quoted` skips the Character walk when the
/// text has no quote byte, a base chain's description is appended piece
/// by piece. Each checked against the code it replaced.
@Suite("nftables: text fast paths")
struct NftTextFastPathTests {
    @Test("generated texts: the same quoting as the Character walk")
    func sameAsWalk() {
        let pieces = ["a", "lo", " ", "\"", "\u{301}", "é", "e\u{301}", "\"\u{301}", "\u{1F600}", "\t", "web: ", "\r\n", "ß", ""]
        var withQuote = 0
        for text in generatedTexts(from: pieces, count: 5000, maxPieces: 6, seed: 12345) {
            #expect(NftSyntax.quoted(text) == NftSyntax.quotedDroppingQuotes(text), "\(text.unicodeScalars.map(\.value))")
            if text.utf8.contains(0x22) { withQuote += 1 }
        }
        #expect(withQuote > 500)
        #expect(NftSyntax.quoted("a\"b") == "\"ab\"" && NftSyntax.quoted("\"\u{301}") == "\"\"\u{301}\"")
    }

    @Test("a base chain's description: the same text as the interpolation")
    func baseChainDescription() {
        for type in NftChainType.allCases {
            for hook in NftHook.allCases {
                for policy in NftPolicy.allCases {
                    for priority in [0, -100, 100, 300, Int32.min, Int32.max] as [Int32] {
                        let base = NftBaseChain(type: type, hook: hook, priority: priority, policy: policy)
                        #expect(base.description == "type \(type) hook \(hook) priority \(priority); policy \(policy);")
                    }
                }
            }
        }
    }
}
