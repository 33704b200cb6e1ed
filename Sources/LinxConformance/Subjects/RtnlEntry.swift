import LinxReconcile

/// One rtnetlink object as the rtnl subjects' snapshots key it: an address
/// by interface name, or a route by the kernel's route key, in the scope's
/// namespace or (to catch a Source writing outside its scope) the host's.
public enum RtnlEntry: Hashable, Sendable, Comparable, CustomStringConvertible {
    case address(host: Bool, interface: String, address: IPAddress, prefixLength: Int)
    case route(host: Bool, key: Route.Key)

    public var description: String {
        switch self {
        case .address(let host, let interface, let address, let length):
            "\(host ? "host: " : "")address \(address)/\(length) dev \(interface)"
        case .route(let host, let key):
            "\(host ? "host: " : "")route \(key.destination) table \(key.table) metric \(key.metric)"
                + (key.tos == 0 ? "" : " tos \(key.tos)")
        }
    }

    public static func < (a: RtnlEntry, b: RtnlEntry) -> Bool { a.description < b.description }

}

/// What the rtnl subjects' snapshots record for an object: an address's
/// IFA_PROTO tag, or a route's gateway, owner tag and type (the device is
/// left out: the kernel may resolve it from the gateway). A value type, so
/// snapshots of hundreds of objects stay cheap while fuzzing.
public enum RtnlValue: Hashable, Sendable, CustomStringConvertible {
    case address(proto: UInt8?)
    case route(gateway: IPAddress?, proto: UInt8, type: RouteType)

    /// The value of an observed or desired address.
    public init(_ address: InterfaceAddress) {
        self = .address(proto: address.proto)
    }

    /// The value of an observed or desired route.
    public init(_ route: Route) {
        self = .route(gateway: route.gateway, proto: route.proto, type: route.type)
    }

    public var description: String {
        switch self {
        case .address(let proto): "proto \(proto.map(String.init) ?? "none")"
        case .route(let gateway, let proto, let type):
            "via \(gateway.map { "\($0)" } ?? "-") proto \(proto) type \(type)"
        }
    }
}
