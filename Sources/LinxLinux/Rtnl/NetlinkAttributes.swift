import CNetlink
import LinxReconcile
import SystemPackage

/// The attributes of one received message, indexed by type through libnl's
/// `nlmsg_parse` / `nla_parse_nested`. Types above `maxType` are ignored, so
/// attributes newer than the headers (or than libnl) are skipped, not fatal.
struct NetlinkAttributes {
    private let table: UnsafeMutableBufferPointer<UnsafeMutablePointer<nlattr>?>

    /// Parses the attributes following a family header of `headerLength`
    /// bytes into a stack-allocated table and runs `body` with it (nil when
    /// the message is malformed). No heap allocation: this runs once per
    /// message in dumps of tens of thousands of routes.
    static func parse<T>(
        _ message: UnsafeMutablePointer<nlmsghdr>, headerLength: Int, maxType: Int32,
        _ body: (NetlinkAttributes) -> T?
    ) -> T? {
        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<nlattr>?.self, capacity: Int(maxType) + 1) { table in
            table.initialize(repeating: nil)
            guard nlmsg_parse(message, Int32(headerLength), table.baseAddress, maxType, nil) >= 0 else { return nil }
            return body(NetlinkAttributes(table: table))
        }
    }

    /// Parses a nested attribute.
    static func parse<T>(nested: UnsafeMutablePointer<nlattr>, maxType: Int32, _ body: (NetlinkAttributes) -> T?) -> T? {
        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<nlattr>?.self, capacity: Int(maxType) + 1) { table in
            table.initialize(repeating: nil)
            guard nla_parse_nested(table.baseAddress, maxType, nested, nil) >= 0 else { return nil }
            return body(NetlinkAttributes(table: table))
        }
    }

    /// Parses a raw attribute stream (extended ack TLVs).
    static func parse<T>(
        stream: UnsafeMutableRawPointer, length: Int, maxType: Int32, _ body: (NetlinkAttributes) -> T?
    ) -> T? {
        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<nlattr>?.self, capacity: Int(maxType) + 1) { table in
            table.initialize(repeating: nil)
            guard nla_parse(table.baseAddress, maxType, stream.assumingMemoryBound(to: nlattr.self), Int32(length), nil) >= 0
            else { return nil }
            return body(NetlinkAttributes(table: table))
        }
    }

    subscript(_ type: Int32) -> UnsafeMutablePointer<nlattr>? {
        Int(type) < table.count ? table[Int(type)] : nil
    }

    func u8(_ type: Int32) -> UInt8? {
        guard let attribute = self[type], nla_len(attribute) >= 1 else { return nil }
        return nla_get_u8(attribute)
    }

    func u32(_ type: Int32) -> UInt32? {
        guard let attribute = self[type], nla_len(attribute) >= 4 else { return nil }
        return nla_get_u32(attribute)
    }

    /// A NUL-terminated string attribute.
    func string(_ type: Int32) -> String? {
        guard let attribute = self[type], nla_len(attribute) > 0 else { return nil }
        let data = nla_data(attribute)!.assumingMemoryBound(to: UInt8.self)
        let bytes = UnsafeBufferPointer(start: data, count: Int(nla_len(attribute)))
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An address attribute of `family`.
    func address(_ type: Int32, family: AddressFamily) -> IPAddress? {
        guard let attribute = self[type] else { return nil }
        let length = Int(nla_len(attribute))
        let data = UnsafeRawBufferPointer(start: nla_data(attribute), count: length)
        switch family {
        case .ipv4:
            guard length == 4 else { return nil }
            return .v4(data.reduce(0) { $0 << 8 | UInt32($1) })
        case .ipv6:
            guard length == 16 else { return nil }
            return IPAddress(ipv6Bytes: data)
        }
    }
}
