import Foundation
@testable import LinxReconcile
import Testing

/// A route entry holds a dotted-quad destination as numbers
/// (``RtnlPackedIPv4``): it must read back exactly as written, compare and
/// hash as its text, and code as the five written fields.
@Suite("route entry: packed destinations")
struct RtnlRouteEntryPackingTests {
    static let crafted = [
        "10.0.0.1", "10.0.0.1/32", "10.0.0.1/032", "10.0.0.1/300", "10.0.0.1/255", "10.0.0.1/256", "10.0.0.1/0",
        "10.0.0.1/00", "0.0.0.0/0", "255.255.255.255/255", "256.0.0.1", "01.0.0.1", "default", "::/0", "", "10.0.0.1/",
        "1.2.3.4/1000", "1.2.3", "1.2.3.4.5", "10.100.249.250/32", " 10.0.0.1", "10.0.0.1/3a", "fe80::1/64",
    ]

    /// Random texts near the dotted-quad form, seeded.
    static func random(_ count: Int) -> [String] {
        var state: UInt64 = 15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let alphabet = Array("0123456789./a:".utf8)
        return (0..<count).map { _ in
            if next() % 2 == 0 {
                // Mostly well-formed: a.b.c.d with a length, some leading zeros and big numbers.
                let octets = (0..<4).map { _ in String(next() % (next() % 5 == 0 ? 400 : 256)) }
                let length = next() % 3 == 0 ? "" : "/" + (next() % 6 == 0 ? "0" : "") + String(next() % 300)
                return octets.joined(separator: ".") + length
            }
            return String(decoding: (0..<(next() % 20)).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }, as: UTF8.self)
        }
    }

    @Test("a destination reads back as written, and parses as its text does")
    func roundTrip() {
        for text in Self.crafted + Self.random(20_000) {
            let entry = RtnlRouteEntry(destination: text, gateway: "10.0.0.1")
            #expect(entry.destination == text)
            let fast = entry.fastDestination, expected = RtnlFastParse.ipv4(text)
            #expect(fast?.address == expected?.address && fast?.length == expected?.length, "\(text)")
            let fromBytes = Array(text.utf8).withUnsafeBufferPointer {
                RtnlRouteEntry(destinationUTF8: $0, gateway: "10.0.0.1", interface: nil, table: nil, metric: nil)
            }
            #expect(fromBytes == entry && fromBytes.destination == text)
            var changed = entry
            changed.destination = "fe80::/64"
            changed.destination = text
            #expect(changed == entry)
        }
    }

    @Test("entries are equal, and hash alike, exactly when their texts are")
    func equality() {
        let texts = Self.crafted + Self.random(3_000)
        let entries = texts.map { RtnlRouteEntry(destination: $0) }
        var byText: [String: RtnlRouteEntry] = [:]
        for (text, entry) in zip(texts, entries) {
            if let earlier = byText[text] {
                #expect(earlier == entry && earlier.hashValue == entry.hashValue)
            }
            byText[text] = entry
        }
        // Distinct texts, distinct entries: a set of the entries is as large as the set of texts.
        #expect(Set(entries).count == Set(texts).count)
    }

    @Test("coded as the fields it is written with")
    func coding() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let entries = [
            RtnlRouteEntry(destination: "10.0.0.1/32", gateway: "10.0.0.1"),
            RtnlRouteEntry(destination: "default", interface: "eth0", table: 100, metric: 5),
            RtnlRouteEntry(destination: "10.0.0.1/032"),
        ]
        let text = String(decoding: try encoder.encode(entries), as: UTF8.self)
        #expect(text == #"[{"destination":"10.0.0.1\/32","gateway":"10.0.0.1"},"#
            + #"{"destination":"default","interface":"eth0","metric":5,"table":100},{"destination":"10.0.0.1\/032"}]"#)
        #expect(try JSONDecoder().decode([RtnlRouteEntry].self, from: Data(text.utf8)) == entries)
    }
}
