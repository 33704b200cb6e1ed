/// rtnetlink's route types that matter to reconcilers (`RTN_*`).
public enum RouteType: UInt8, Sendable, Hashable, Codable {
    case unicast = 1, local = 2, broadcast = 3, anycast = 4, multicast = 5
    case blackhole = 6, unreachable = 7, prohibit = 8
}

/// Well-known route tables and protocols.
public enum RouteTable {
    /// RT_TABLE_MAIN, where routes go unless told otherwise.
    public static let main: UInt32 = 254
    /// RT_TABLE_LOCAL, the kernel's own local and broadcast routes.
    public static let local: UInt32 = 255
}

/// Well-known `rtm_protocol` values.
public enum RouteProtocol {
    /// RTPROT_REDIRECT: installed by the kernel from ICMP redirects.
    public static let redirect: UInt8 = 1
    /// RTPROT_KERNEL: installed by the kernel (prefix routes of addresses).
    public static let kernel: UInt8 = 2
    /// RTPROT_BOOT: installed by `ip route` without a protocol.
    public static let boot: UInt8 = 3
    /// RTPROT_STATIC: installed by an administrator.
    public static let `static`: UInt8 = 4
    /// RTPROT_RA: installed by the kernel from router advertisements.
    public static let routerAdvertisement: UInt8 = 9
    /// Linx's default ownership tag, ASCII 'L'.
    public static let linx: UInt8 = 76

    /// The tags of routes the kernel installs itself, with what each means:
    /// refused as ownership tags (owning one would delete the kernel's routes).
    public static let kernelReserved: [UInt8: String] = [
        0: "unspecified",
        redirect: "routes the kernel learnt from ICMP redirects",
        kernel: "the kernel's prefix routes of addresses",
        routerAdvertisement: "routes the kernel learnt from router advertisements",
    ]
}

/// A route as the kernel stores it.
///
/// Identity is what the kernel indexes a route by (``Key``): family, table,
/// destination prefix, tos and metric. The gateway and device are the value:
/// a changed gateway is a replace of the same route, while a changed metric is
/// a different route altogether.
public struct Route: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The kernel's route key.
    public struct Key: Sendable, Hashable, Comparable, Codable {
        /// The routing table.
        public var table: UInt32
        /// The destination prefix.
        public var destination: IPPrefix
        /// The type of service.
        public var tos: UInt8
        /// The metric (RTA_PRIORITY) as the kernel stores it (an IPv6 0 is 1024).
        public var metric: UInt32

        /// The key of a route.
        public init(table: UInt32, destination: IPPrefix, tos: UInt8, metric: UInt32) {
            self.table = table
            self.destination = destination
            self.tos = tos
            self.metric = metric
        }

        /// The family of the destination.
        public var family: AddressFamily { destination.family }

        public static func < (a: Key, b: Key) -> Bool {
            (a.destination.family, a.table, a.destination, a.tos, a.metric)
                < (b.destination.family, b.table, b.destination, b.tos, b.metric)
        }
    }

    /// The routing table (RT_TABLE_MAIN unless told).
    public var table: UInt32
    /// The destination prefix; length 0 is a default route.
    public var destination: IPPrefix
    /// The type of service (usually 0).
    public var tos: UInt8
    /// RTA_PRIORITY. IPv6 stores 0 as 1024, see ``normalizedMetric(_:family:)``.
    public var metric: UInt32
    /// The next hop; nil for a directly connected route.
    public var gateway: IPAddress?
    /// The output interface; nil lets the kernel resolve it from the gateway.
    public var ifindex: Int32?
    /// `rtm_protocol`: the ownership tag.
    public var proto: UInt8
    /// `rtm_scope`: 0 universe, 253 link, 254 host.
    public var scope: UInt8
    /// The route type (`unicast` for ordinary routes).
    public var type: RouteType
    /// RTA_PREFSRC, the source address the kernel prefers for this route:
    /// set on the routes the kernel derives from an IPv4 address (the
    /// subnet's primary), nil on routes Linx asks for. Not identity.
    public var prefsrc: IPAddress?
    /// Interface name, filled in by reconcilers for reports; not identity.
    public var interfaceName: String? {
        get { packedName.string }
        set { packedName = PackedName(newValue) }
    }
    /// ``interfaceName``'s storage: plain bytes, so a route copies without
    /// reference counting (see ``PackedName``).
    package var packedName: PackedName

    /// A route; `metric` 0 becomes 1024 for IPv6, as the kernel stores it, and `proto` defaults to Linx's tag.
    public init(
        destination: IPPrefix, gateway: IPAddress? = nil, ifindex: Int32? = nil,
        table: UInt32 = RouteTable.main, metric: UInt32 = 0, tos: UInt8 = 0,
        proto: UInt8 = RouteProtocol.linx, scope: UInt8 = 0, type: RouteType = .unicast,
        interfaceName: String? = nil, prefsrc: IPAddress? = nil
    ) {
        self.destination = destination
        self.gateway = gateway
        self.ifindex = ifindex
        self.table = table
        self.metric = Route.normalizedMetric(metric, family: destination.family)
        self.tos = tos
        self.proto = proto
        self.scope = scope
        self.type = type
        self.packedName = PackedName(interfaceName)
        self.prefsrc = prefsrc
    }

    private enum CodingKeys: String, CodingKey {
        case table, destination, tos, metric, gateway, ifindex, proto, scope, type, prefsrc, interfaceName
    }

    // Written out because the name's storage is not the coded form: the
    // same keys, in the same order, as the synthesized coding they replace.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        table = try c.decode(UInt32.self, forKey: .table)
        destination = try c.decode(IPPrefix.self, forKey: .destination)
        tos = try c.decode(UInt8.self, forKey: .tos)
        metric = try c.decode(UInt32.self, forKey: .metric)
        gateway = try c.decodeIfPresent(IPAddress.self, forKey: .gateway)
        ifindex = try c.decodeIfPresent(Int32.self, forKey: .ifindex)
        proto = try c.decode(UInt8.self, forKey: .proto)
        scope = try c.decode(UInt8.self, forKey: .scope)
        type = try c.decode(RouteType.self, forKey: .type)
        prefsrc = try c.decodeIfPresent(IPAddress.self, forKey: .prefsrc)
        packedName = PackedName(try c.decodeIfPresent(String.self, forKey: .interfaceName))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(table, forKey: .table)
        try c.encode(destination, forKey: .destination)
        try c.encode(tos, forKey: .tos)
        try c.encode(metric, forKey: .metric)
        try c.encodeIfPresent(gateway, forKey: .gateway)
        try c.encodeIfPresent(ifindex, forKey: .ifindex)
        try c.encode(proto, forKey: .proto)
        try c.encode(scope, forKey: .scope)
        try c.encode(type, forKey: .type)
        try c.encodeIfPresent(prefsrc, forKey: .prefsrc)
        try c.encodeIfPresent(interfaceName, forKey: .interfaceName)
    }

    /// The kernel stores an IPv6 route's metric 0 as 1024.
    public static func normalizedMetric(_ metric: UInt32, family: AddressFamily) -> UInt32 {
        family == .ipv6 && metric == 0 ? 1024 : metric
    }

    /// The family of the destination.
    public var family: AddressFamily { destination.family }
    /// Its identity for the diff (see ``Key``).
    public var key: Key { Key(table: table, destination: destination, tos: tos, metric: metric) }

    public var description: String {
        var text = destination.length == 0 ? "route default" : "route \(destination)"
        if destination.length == 0 && family == .ipv6 { text += " (ipv6)" }
        if let gateway { text += " via \(gateway)" }
        if let interfaceName { text += " dev \(interfaceName)" } else if let ifindex { text += " dev #\(ifindex)" }
        if table != RouteTable.main { text += " table \(table)" }
        if metric != 0 { text += " metric \(metric)" }
        if tos != 0 { text += " tos \(tos)" }
        if let prefsrc { text += " src \(prefsrc)" }
        return text + " proto \(proto)"
    }
}
