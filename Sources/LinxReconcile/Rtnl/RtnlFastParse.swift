/// The common case of desired-state text, parsed in one pass over its bytes:
/// dotted-quad IPv4, optionally `/LEN`. Every pass re-reads every entry, so
/// this is the normaliser's hot path; anything it does not accept goes to
/// the general parsers (``IPAddress/init(_:)``, `Int`), which also produce
/// the error messages.
enum RtnlFastParse {
    /// `a.b.c.d` or `a.b.c.d/len`, accepted exactly as `inet_pton(AF_INET)`
    /// accepts the address (four decimal octets, each 0...255, no leading
    /// zeros) with 1-3 decimal digits of length. Nil for anything else.
    static func ipv4(_ text: String) -> (address: UInt32, length: Int?)? {
        text.utf8.withContiguousStorageIfAvailable(ipv4) ?? nil
    }

    /// ``ipv4(_:)-(String)`` of UTF-8 bytes.
    static func ipv4(_ bytes: UnsafeBufferPointer<UInt8>) -> (address: UInt32, length: Int?)? {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        var i = 0
        scan: while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if digits > 0 && octet == 0 { return nil }  // a leading zero, as inet_pton refuses
                octet = octet * 10 + UInt32(bytes[i] &- UInt8(ascii: "0"))
                digits += 1
                if octet > 255 { return nil }
            case UInt8(ascii: "."):
                if digits == 0 || dots == 3 { return nil }
                value = value << 8 | octet
                octet = 0
                digits = 0
                dots += 1
            case UInt8(ascii: "/"):
                break scan
            default:
                return nil
            }
            i += 1
        }
        guard digits > 0, dots == 3 else { return nil }
        value = value << 8 | octet
        guard i < bytes.count else { return (value, nil) }
        i += 1
        let start = i
        var length = 0
        while i < bytes.count {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]), i - start < 3 else { return nil }
            length = length * 10 + Int(bytes[i] &- UInt8(ascii: "0"))
            i += 1
        }
        return i > start ? (value, length) : nil
    }

    /// ``ipv6(_:)-(UnsafeBufferPointer<UInt8>)`` of a string's bytes.
    static func ipv6(_ text: String) -> (high: UInt64, low: UInt64)? {
        text.utf8.withContiguousStorageIfAvailable(ipv6) ?? nil
    }

    /// IPv6 text made of hex groups and colons only (`fd00:200:1b::`,
    /// `fd00:1:7::d3`), read exactly as glibc's `inet_pton(AF_INET6)` reads
    /// it: 1-4 hex digits a group, at most one `::` standing for at least
    /// one zero group, no single leading or trailing colon, eight groups in
    /// all. Nil for anything else, including every text inet_pton refuses and
    /// the forms this does not read (an embedded dotted quad): the caller
    /// then asks inet_pton, which also words the error. The desired states
    /// fuzzing draws hold thousands of IPv6 gateways and destinations, and
    /// inet_pton (through a C string) was most of reading them.
    static func ipv6(_ bytes: UnsafeBufferPointer<UInt8>) -> (high: UInt64, low: UInt64)? {
        let count = bytes.count
        guard count > 0 else { return nil }
        var i = 0
        // A leading colon must start "::".
        if bytes[0] == UInt8(ascii: ":") {
            guard count > 1, bytes[1] == UInt8(ascii: ":") else { return nil }
            i = 1
        }
        // Up to eight groups, 16 bits each, in one word pair as they come.
        var groups: (UInt64, UInt64) = (0, 0)
        var written = 0
        var gap = -1  // the group position "::" stands at, -1 for none
        var digits = 0
        var value: UInt64 = 0
        func put(_ group: UInt64, at position: Int) {
            if position < 4 {
                groups.0 |= group << UInt64(48 - 16 * position)
            } else {
                groups.1 |= group << UInt64(48 - 16 * (position - 4))
            }
        }
        while i < count {
            let byte = bytes[i]
            i += 1
            let digit: UInt64
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(byte &- UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt64(byte &- UInt8(ascii: "a") &+ 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt64(byte &- UInt8(ascii: "A") &+ 10)
            case UInt8(ascii: ":"):
                if digits == 0 {
                    // The second colon of "::"; a second "::" is refused.
                    guard gap < 0 else { return nil }
                    gap = written
                    continue
                }
                // A single trailing colon is refused.
                guard i < count, written < 8 else { return nil }
                put(value, at: written)
                written += 1
                digits = 0
                value = 0
                continue
            default:
                // A dotted-quad tail, or text inet_pton refuses.
                return nil
            }
            guard digits < 4 else { return nil }
            value = value << 4 | digit
            digits += 1
        }
        if digits > 0 {
            guard written < 8 else { return nil }
            put(value, at: written)
            written += 1
        }
        guard gap >= 0 else { return written == 8 ? groups : nil }
        // "::" stands for at least one zero group: the groups after it move
        // to the end.
        guard written < 8 else { return nil }
        let after = written - gap
        guard after > 0 else { return groups }
        var moved: (UInt64, UInt64) = (0, 0)
        for position in 0..<8 {
            let group = position < 4 ? groups.0 >> UInt64(48 - 16 * position) & 0xFFFF : groups.1 >> UInt64(48 - 16 * (position - 4)) & 0xFFFF
            let target = position < gap ? position : position >= written ? -1 : position + 8 - written
            guard target >= 0, group != 0 else { continue }
            if target < 4 {
                moved.0 |= group << UInt64(48 - 16 * target)
            } else {
                moved.1 |= group << UInt64(48 - 16 * (target - 4))
            }
        }
        return moved
    }
}
