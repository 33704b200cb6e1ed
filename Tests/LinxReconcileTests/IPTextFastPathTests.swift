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
