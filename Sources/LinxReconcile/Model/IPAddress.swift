#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An address family, as rtnetlink numbers them.
public enum AddressFamily: String, Sendable, Hashable, Codable, Comparable, CaseIterable {
    case ipv4, ipv6

    /// Bits in an address of this family.
    public var bitWidth: Int { self == .ipv4 ? 32 : 128 }

    public static func < (a: Self, b: Self) -> Bool { a == .ipv4 && b == .ipv6 }
}

/// An IPv4 or IPv6 address as a value: parsed with `inet_pton`, printed with
/// `inet_ntop`, so its text form is the one `ip` prints.
public enum IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// An IPv4 address, host byte order.
    case v4(UInt32)
    /// An IPv6 address as its high and low 64 bits, host byte order.
    case v6(high: UInt64, low: UInt64)

    /// Parses a textual address; throws ``ValueError`` naming the text.
    public init(_ text: String) throws(ValueError) {
        // Bytes, not Characters, and withCString, not an implicit bridge
        // (which copies into a fresh array): this parser runs for every
        // entry of every pass.
        // inet_pton stops at a NUL, so "10.0.0.1\0junk" would pass as
        // 10.0.0.1: a value that says one thing and installs another.
        // A plain dotted quad (the common case) is read in one pass over
        // its bytes, accepted exactly as inet_pton accepts it.
        if let fast = RtnlFastParse.ipv4(text), fast.length == nil {
            self = .v4(fast.address)
            return
        }
        // Hex groups and colons (the usual IPv6 text) likewise, accepted
        // exactly as inet_pton accepts them; anything else goes to it.
        if let fast = RtnlFastParse.ipv6(text) {
            self = .v6(high: fast.high, low: fast.low)
            return
        }
        guard !text.utf8.contains(0) else { throw ValueError(value: text, reason: "not a valid address (contains NUL)") }
        if text.utf8.contains(UInt8(ascii: ":")) {
            var raw = in6_addr()
            guard text.withCString({ inet_pton(AF_INET6, $0, &raw) }) == 1 else {
                throw ValueError(value: text, reason: "not a valid IPv6 address")
            }
            self = withUnsafeBytes(of: raw) { IPAddress(ipv6Bytes: $0) }
        } else {
            var raw = in_addr()
            guard text.withCString({ inet_pton(AF_INET, $0, &raw) }) == 1 else {
                throw ValueError(value: text, reason: "not a valid IPv4 address")
            }
            self = .v4(UInt32(bigEndian: raw.s_addr))
        }
    }

    /// Builds an IPv6 address from its 16 network-order bytes.
    public init(ipv6Bytes bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count == 16, "IPv6 addresses are 16 bytes")
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(bytes[i]) }
        for i in 8..<16 { low = low << 8 | UInt64(bytes[i]) }
        self = .v6(high: high, low: low)
    }

    /// IPv4 or IPv6.
    public var family: AddressFamily {
        if case .v4 = self { return .ipv4 }
        return .ipv6
    }

    /// The address in network byte order, as netlink carries it.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let v):
            return (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) }
        case .v6(let high, let low):
            return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        }
    }

    /// The canonical text form (`inet_ntop`'s).
    public var description: String {
        switch self {
        case .v4(let v):
            // The dotted quad by hand: inet_ntop formats through sprintf, and
            // a report of 65,536 routes prints twice as many addresses.
            var text = String(v >> 24)
            for shift: UInt32 in [16, 8, 0] {
                text += "."
                text += String(v >> shift & 0xFF)
            }
            return text
        case .v6:
            break
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch self {
        case .v4:
            break
        case .v6:
            var raw = in6_addr()
            let b = bytes
            withUnsafeMutableBytes(of: &raw) { dst in
                for i in 0..<16 { dst[i] = b[i] }
            }
            inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count))
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// This address with every bit past `length` cleared.
    public func masked(to length: Int) -> IPAddress {
        switch self {
        case .v4(let v):
            let mask: UInt32 = length == 0 ? 0 : ~0 << (32 - length)
            return .v4(v & mask)
        case .v6(let high, let low):
            let highMask: UInt64 = length >= 64 ? ~0 : (length == 0 ? 0 : ~0 << (64 - length))
            let lowMask: UInt64 = length <= 64 ? 0 : (length == 128 ? ~0 : ~0 << (128 - length))
            return .v6(high: high & highMask, low: low & lowMask)
        }
    }

    /// True for the all-zeros address of either family.
    public var isUnspecified: Bool { self == .v4(0) || self == .v6(high: 0, low: 0) }

    /// True for IPv6 link-local (fe80::/10).
    public var isIPv6LinkLocal: Bool {
        if case .v6(let high, _) = self { return high >> 54 == 0x3FA }
        return false
    }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        switch (a, b) {
        case (.v4(let x), .v4(let y)): x < y
        case (.v6(let xh, let xl), .v6(let yh, let yl)): (xh, xl) < (yh, yl)
        case (.v4, .v6): true
        case (.v6, .v4): false
        }
    }
}

extension IPAddress: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = try IPAddress(text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Bad input text (an address, a prefix, a sysctl key ...): names the value
/// exactly as written and the reason it was refused.
public struct ValueError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text as the user wrote it.
    public var value: String
    /// Why it was refused.
    public var reason: String

    /// The refusal of `value` (as written) for `reason`.
    public init(value: String, reason: String) {
        self.value = value
        self.reason = reason
    }

    public var description: String { "\"\(value)\": \(reason)" }
}
