import Glibc
import Testing

@testable import LinxReconcile

/// `IPAddress.init(_:)` and `IPPrefix.init(_:)` read a plain dotted quad
/// (with `/LEN` for a prefix) byte by byte before trying inet_pton: on any
/// text they must give what the inet_pton path alone gave, value or error.
@Suite("IP text fast paths")
struct IPTextFastPathTests {
    static let pieces = [
        "0", "1", "9", "10", "25", "255", "256", "00", "01", ".", ".", ".", "/", "/", "24", "32", "33", "8", "099",
        ":", "::", "fd00", "a", " ", "\0", "+", "-", "1.2.3.4", "0.0.0.0", "10.0.0.0/8",
    ]

    @Test("IPAddress and IPPrefix parse every generated text as the inet_pton path does")
    func fastPathsAgree() {
        var addresses = 0, prefixes = 0
        for text in generatedTexts(from: Self.pieces, count: 40_000, maxPieces: 8, seed: 1_405) {
            let address = Result { () throws(ValueError) in try IPAddress(text) }
            #expect(address == Self.plainAddress(text), "\(String(reflecting: text))")
            if case .success = address { addresses += 1 }
            let prefix = Result { () throws(ValueError) in try IPPrefix(text) }
            #expect(prefix == Self.plainPrefix(text), "\(String(reflecting: text))")
            if case .success = prefix { prefixes += 1 }
        }
        #expect(addresses > 500 && prefixes > 500)
    }

    /// IPv6 texts: hex groups of every width (and too wide), colons single,
    /// double and triple, dotted-quad tails, junk.
    static let ipv6Pieces = [
        "fd00", "0", "1", "a", "F", "ffff", "FfFf", "0db8", "10000", "12345", "g", ":", ":", ":", ":", "::", "::", ":::",
        "1.2.3.4", "%eth0", "/64", " ", "\0", "0:", ":0", "1:2:3:4:5:6:7:8", "1:2:3:4", "::1", "fe80::",
    ]

    @Test("IPv6 text reads as inet_pton reads it, value or error")
    func ipv6FastPathAgrees() {
        var accepted = 0, fast = 0, compressed = 0
        for text in generatedTexts(from: Self.ipv6Pieces, count: 60_000, maxPieces: 10, seed: 2_026) {
            let address = Result { () throws(ValueError) in try IPAddress(text) }
            #expect(address == Self.plainAddress(text), "\(String(reflecting: text))")
            if case .success = address { accepted += 1 }
            if let parsed = RtnlFastParse.ipv6(text) {
                fast += 1
                if text.contains("::") { compressed += 1 }
                #expect(Self.plainAddress(text) == .success(.v6(high: parsed.high, low: parsed.low)), "\(String(reflecting: text))")
            }
            let prefix = Result { () throws(ValueError) in try IPPrefix(text) }
            #expect(prefix == Self.plainPrefix(text), "\(String(reflecting: text))")
        }
        // Most accepted texts took the fast path, with and without "::".
        #expect(accepted > 2_000 && fast > accepted * 8 / 10 && compressed > 1_000)
    }

    /// The address parser before its fast path.
    static func plainAddress(_ text: String) -> Result<IPAddress, ValueError> {
        guard !text.utf8.contains(0) else { return .failure(ValueError(value: text, reason: "not a valid address (contains NUL)")) }
        if text.utf8.contains(UInt8(ascii: ":")) {
            var raw = in6_addr()
            guard text.withCString({ inet_pton(AF_INET6, $0, &raw) }) == 1 else {
                return .failure(ValueError(value: text, reason: "not a valid IPv6 address"))
            }
            return .success(withUnsafeBytes(of: raw) { IPAddress(ipv6Bytes: $0) })
        }
        var raw = in_addr()
        guard text.withCString({ inet_pton(AF_INET, $0, &raw) }) == 1 else {
            return .failure(ValueError(value: text, reason: "not a valid IPv4 address"))
        }
        return .success(.v4(UInt32(bigEndian: raw.s_addr)))
    }

    /// The prefix parser before its fast path.
    static func plainPrefix(_ text: String) -> Result<IPPrefix, ValueError> {
        Result { () throws(ValueError) in
            guard let slash = text.utf8.firstIndex(of: UInt8(ascii: "/")) else {
                let address = try plainAddress(text).get()
                return try IPPrefix(address, length: address.family.bitWidth)
            }
            let lengthText = text[text.utf8.index(after: slash)...]
            guard !lengthText.utf8.contains(UInt8(ascii: "/")) else { throw ValueError(value: text, reason: "more than one '/'") }
            let address = try plainAddress(String(text[..<slash])).get()
            guard let length = Int(lengthText) else {
                throw ValueError(value: text, reason: "prefix length \"\(lengthText)\" is not a number")
            }
            return try IPPrefix(address, length: length)
        }
    }
}
