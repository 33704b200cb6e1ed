/// A network prefix: an address and a length, with no host bits set.
///
/// `10.0.0.1/24` is refused rather than silently masked to `10.0.0.0/24`:
/// a desired state that says one thing and installs another cannot converge
/// honestly.
public struct IPPrefix: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The network address (host bits clear).
    public let address: IPAddress
    /// The prefix length, 0...32 for IPv4, 0...128 for IPv6.
    public let length: Int

    /// Validates the length against the family and refuses host bits.
    public init(_ address: IPAddress, length: Int) throws(ValueError) {
        // The text is built only for an error: this init runs once per route
        // in every dump and every pass.
        guard (0...address.family.bitWidth).contains(length) else {
            throw ValueError(
                value: "\(address)/\(length)",
                reason: "prefix length \(length) is out of range for \(address.family) (0...\(address.family.bitWidth))")
        }
        guard address.masked(to: length) == address else {
            throw ValueError(
                value: "\(address)/\(length)",
                reason: "host bits are set (the network is \(address.masked(to: length))/\(length))")
        }
        self.address = address
        self.length = length
    }

    /// Parses `ADDR/LEN`, or a bare address as a host prefix (/32 or /128).
    public init(_ text: String) throws(ValueError) {
        // `a.b.c.d/len` in one pass over its bytes: the same address as
        // inet_pton and the same length as Int (1-3 decimal digits), then
        // the same range and host-bit checks.
        if let fast = RtnlFastParse.ipv4(text) {
            try self.init(.v4(fast.address), length: fast.length ?? 32)
            return
        }
        // Found by bytes, not split: this runs for every desired route of
        // every pass.
        guard let slash = text.utf8.firstIndex(of: UInt8(ascii: "/")) else {
            let address = try IPAddress(text)
            try self.init(address, length: address.family.bitWidth)
            return
        }
        let lengthText = text[text.utf8.index(after: slash)...]
        guard !lengthText.utf8.contains(UInt8(ascii: "/")) else { throw ValueError(value: text, reason: "more than one '/'") }
        let address = try IPAddress(String(text[..<slash]))
        guard let length = Int(lengthText) else {
            throw ValueError(value: text, reason: "prefix length \"\(lengthText)\" is not a number")
        }
        try self.init(address, length: length)
    }

    /// The default route of a family (`0.0.0.0/0` or `::/0`).
    public static func any(_ family: AddressFamily) -> IPPrefix {
        family == .ipv4
            ? try! IPPrefix(.v4(0), length: 0)
            : try! IPPrefix(.v6(high: 0, low: 0), length: 0)
    }

    /// The family of the network address.
    public var family: AddressFamily { address.family }

    /// True when `other` lies inside this prefix.
    public func contains(_ other: IPAddress) -> Bool {
        other.family == family && other.masked(to: length) == address
    }

    /// `ADDR/LEN`, the form the parser reads back.
    public var description: String { "\(address)/\(length)" }

    public static func < (a: IPPrefix, b: IPPrefix) -> Bool {
        (a.address, a.length) < (b.address, b.length)
    }
}

extension IPPrefix: Codable {
    public init(from decoder: any Decoder) throws {
        self = try IPPrefix(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
