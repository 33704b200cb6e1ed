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
}
