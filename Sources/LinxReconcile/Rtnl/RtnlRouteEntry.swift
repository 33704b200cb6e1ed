/// One route in an ``RtnlDesiredState``, authored like `ip route add`.
///
/// The destination is a prefix (`10.50.0.0/24`) or `default`; the route goes
/// via a gateway, out of an interface, or both. Table and metric are optional
/// (main, 0). The text is kept as written so that errors can name the entry.
/// The route's `rtm_protocol` is not written here: it is always the
/// reconciler's ownership tag (``RtnlOptions/routeProtocol``).
public struct RtnlRouteEntry: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `ADDR/LEN`, a bare address (a host route), or `default` (its family is
    /// the gateway's; write `0.0.0.0/0` or `::/0` for a default route without
    /// a gateway).
    public var destination: String {
        get { writtenDestination ?? packedDestination.text }
        set { (packedDestination, writtenDestination) = Self.store(newValue) }
    }
    /// The next hop, or nil for a route straight out of ``interface``.
    public var gateway: String?
    /// The output interface by name, or nil to let the kernel resolve it from
    /// the gateway.
    public var interface: String?
    /// The routing table, nil for main (254).
    public var table: UInt32?
    /// The metric (`RTA_PRIORITY`), nil for 0. Part of the route's identity:
    /// changing it makes a different route.
    public var metric: UInt32?

    /// The destination when its text is exactly what ``RtnlPackedIPv4/text``
    /// prints (dotted-quad IPv4, optionally `/LEN`): held as numbers, so a
    /// file of 65,536 routes makes no string for them and the normaliser
    /// parses nothing. ``RtnlPackedIPv4/unpacked`` otherwise.
    private var packedDestination: RtnlPackedIPv4
    /// The destination's text when it is not packed, else nil. Exactly one
    /// form holds a given text, so the synthesized equality and hash (over
    /// these two) agree with comparing the texts.
    private var writtenDestination: String?

    /// A route entry, as written.
    public init(
        destination: String, gateway: String? = nil, interface: String? = nil,
        table: UInt32? = nil, metric: UInt32? = nil
    ) {
        (packedDestination, writtenDestination) = Self.store(destination)
        self.gateway = gateway
        self.interface = interface
        self.table = table
        self.metric = metric
    }

    /// A route entry whose destination is the UTF-8 text `destination`
    /// (a file's bytes), made without a string when it packs.
    package init(
        destinationUTF8 destination: UnsafeBufferPointer<UInt8>, gateway: String?, interface: String?,
        table: UInt32?, metric: UInt32?
    ) {
        packedDestination = RtnlPackedIPv4(destination)
        writtenDestination = packedDestination == .unpacked ? String(decoding: destination, as: UTF8.self) : nil
        self.gateway = gateway
        self.interface = interface
        self.table = table
        self.metric = metric
    }

    /// The entry `RtnlRouteEntry(destination: "a.b.c.d/length")` makes,
    /// from the address's number: a generator drawing thousands of routes
    /// then neither formats the text nor reads an entry from a table (a
    /// table of entries large enough for its draws missed the cache on
    /// every read). `length` must be 0...32.
    package init(ipv4Destination address: UInt32, length: Int) {
        packedDestination = RtnlPackedIPv4(address: address, length: length)
        writtenDestination = nil
    }

    private static func store(_ text: String) -> (RtnlPackedIPv4, String?) {
        var text = text
        let packed = text.withUTF8(RtnlPackedIPv4.init)
        return packed == .unpacked ? (.unpacked, text) : (packed, nil)
    }

    /// ``RtnlFastParse/ipv4(_:)`` of ``destination``, without its text when
    /// packed (package: the conformance subjects' model reads it too, rather
    /// than formatting the packed text for `IPPrefix.init(_:)` to parse).
    package var fastDestination: (address: UInt32, length: Int?)? {
        if let writtenDestination { return RtnlFastParse.ipv4(writtenDestination) }
        return (packedDestination.address, packedDestination.length)
    }

    private enum CodingKeys: String, CodingKey {
        case destination, gateway, interface, table, metric
    }

    // Coded as the five fields it is written with (the packed form is not
    // part of the format).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            destination: try container.decode(String.self, forKey: .destination),
            gateway: try container.decodeIfPresent(String.self, forKey: .gateway),
            interface: try container.decodeIfPresent(String.self, forKey: .interface),
            table: try container.decodeIfPresent(UInt32.self, forKey: .table),
            metric: try container.decodeIfPresent(UInt32.self, forKey: .metric))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(destination, forKey: .destination)
        try container.encodeIfPresent(gateway, forKey: .gateway)
        try container.encodeIfPresent(interface, forKey: .interface)
        try container.encodeIfPresent(table, forKey: .table)
        try container.encodeIfPresent(metric, forKey: .metric)
    }

    /// `route 10.50.0.0/24 via 10.0.0.1 dev eth0 table 100 metric 50`.
    public var description: String {
        var text = "route \(destination)"
        if let gateway { text += " via \(gateway)" }
        if let interface { text += " dev \(interface)" }
        if let table { text += " table \(table)" }
        if let metric { text += " metric \(metric)" }
        return text
    }
}

/// Dotted-quad IPv4 text, optionally `/LEN`, as numbers: only text that
/// prints back exactly as written (``RtnlFastParse/ipv4(_:)``'s form, with a
/// length of 0...255 written without a leading zero).
struct RtnlPackedIPv4: Sendable, Hashable {
    /// The address, host order.
    let address: UInt32
    /// The length, or ``absent``; ``invalid`` for ``unpacked``.
    private let lengthCode: UInt16

    private static let absent: UInt16 = 0x100
    private static let invalid: UInt16 = 0x200

    /// Not packed.
    static let unpacked = RtnlPackedIPv4(address: 0, lengthCode: invalid)

    private init(address: UInt32, lengthCode: UInt16) {
        self.address = address
        self.lengthCode = lengthCode
    }

    /// `a.b.c.d/length` as ``init(_:)`` packs its text (length 0...32, written
    /// without leading zeros).
    init(address: UInt32, length: Int) {
        precondition((0...32).contains(length))
        self.init(address: address, lengthCode: UInt16(length))
    }

    /// The packed form of `text`, or ``unpacked``.
    init(_ text: UnsafeBufferPointer<UInt8>) {
        guard let parsed = RtnlFastParse.ipv4(text) else {
            self = .unpacked
            return
        }
        guard let length = parsed.length else {
            self.init(address: parsed.address, lengthCode: Self.absent)
            return
        }
        // RtnlFastParse reads `/032` and `/300` too: those keep their text.
        let slash = text.lastIndex(of: UInt8(ascii: "/"))!
        guard length <= 255, text[slash + 1] != UInt8(ascii: "0") || text.count == slash + 2 else {
            self = .unpacked
            return
        }
        self.init(address: parsed.address, lengthCode: UInt16(length))
    }

    var length: Int? { lengthCode == Self.absent ? nil : Int(lengthCode) }

    /// The text it was packed from.
    var text: String {
        let address = IPAddress.v4(address).description
        return lengthCode == Self.absent ? address : "\(address)/\(lengthCode)"
    }
}
