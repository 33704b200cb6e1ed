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

    /// The value the snapshot records for an address: its IFA_PROTO tag.
    public static func value(of address: InterfaceAddress) -> String {
        "proto \(address.proto.map(String.init) ?? "none")"
    }

    /// The value the snapshot records for a route: its gateway and owner tag
    /// (the device is left out: the kernel may resolve it from the gateway).
    public static func value(of route: Route) -> String {
        "via \(route.gateway.map { "\($0)" } ?? "-") proto \(route.proto) type \(route.type.rawValue)"
    }
}
