@testable import LinxReconcile
import Testing

/// `SysctlKey.init` and `SysctlValue.normalized` take byte-level fast paths
/// for the common case (short ASCII keys, already-normal values). They must
/// give exactly what the general, Character-based paths give, for any text:
/// these tests compare the two on many generated texts mixing the separators with the cases where bytes and
/// Characters differ (CR LF, combining marks after '.', '/' and ' ', a
/// prepended mark before a space, non-ASCII letters, NUL).
@Suite("sysctl key and value fast paths")
struct SysctlFastPathTests {
    /// Pieces texts are made of.
    static let pieces = [
        "net", "ipv4", "conf", "eth0", "a", "ip_forward", ".", ".", "/", "/", "..", " ", " ", "\t", "\n", "\r",
        "\r\n", "\0", "é", "e\u{301}", ".\u{301}", "/\u{301}", " \u{301}", "\u{600}", "-", "0",
    ]

    static func texts(count: Int, seed: UInt64) -> [String] {
        generatedTexts(from: pieces, count: count, maxPieces: 9, seed: seed)
    }

    @Test("the ASCII key fast path splits as the general rules do, and takes every ASCII key they accept")
    func keysAgree() throws {
        var parsed = 0
        let texts = Self.texts(count: 20_000, seed: 14) + [
            "net.ipv4.conf.eth0/100.forwarding", "net/ipv4/conf/eth0.100/forwarding", "net./", "net.//", "net/./x", "a",
        ]
        for text in texts {
            let general = Result { () throws(ValueError) -> [String] in try SysctlKey.components(of: text) }
            let fast = SysctlKey.plainASCIIComponents(text)
            if let fast {
                #expect(general == .success(fast), "\(String(reflecting: text))")
            } else if text.utf8.allSatisfy({ $0 < 0x80 && $0 != 0 }), case .success = general {
                Issue.record("the fast path left out the ASCII key \(String(reflecting: text))")
            }
            #expect(Result { () throws(ValueError) -> [String] in try SysctlKey(text).components } == general)
            if case .success(let components) = general {
                parsed += 1
                let key = try SysctlKey(text)
                #expect(key == SysctlKey(components: components))
                #expect(key.path == components.joined(separator: "/"))
                #expect(key.description == components.map { String($0.map { $0 == "." ? "/" : $0 }) }.joined(separator: "."))
            }
        }
        // The generator reaches both outcomes often.
        #expect(parsed > 2_000)
        #expect(texts.count - parsed > 2_000)
    }

    @Test("SysctlValue.normalized gives what splitting on whitespace Characters gives")
    func valuesAgree() {
        var changed = 0
        for text in Self.texts(count: 20_000, seed: 15) + ["32768\t60999", "1 2", " 1", "1 ", "1  2", "", " "] {
            let general = SysctlValue.splitAndJoined(text)
            #expect(SysctlValue.normalized(text) == general, "\(String(reflecting: text))")
            if general != text { changed += 1 }
        }
        #expect(changed > 2_000)
    }
}
