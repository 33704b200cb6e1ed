/// The addresses and routes a namespace should have, authored by interface
/// name.
///
/// Written in code as a list of entries:
///
/// ```swift
/// let desired: RtnlDesiredState = [
///     .address("10.0.0.2/24", on: "eth0"),
///     .route(to: "10.50.0.0/24", via: "10.0.0.1", table: 100, metric: 50),
///     .defaultRoute(via: "10.0.0.1"),
/// ]
/// ```
///
/// (A list rather than a result builder: Swift reads a line that starts with
/// `.` as a member of the line before, so a builder of `.address(...)` lines
/// cannot parse.)
///
/// or decoded from JSON/YAML as
/// `{"addresses": [{"interface": "eth0", "address": "10.0.0.2/24"}],
///   "routes": [{"destination": "default", "gateway": "10.0.0.1"}]}`.
///
/// Absent is not empty. A kind that is nil (not given) is not managed: a
/// pass neither creates nor deletes addresses (or routes) then, and keeps
/// the ownership it had. An empty list manages the kind as empty: every
/// owned object of that kind is deleted. A list of entries (the literal,
/// ``init(_:)``) states the whole namespace, so it manages both kinds.
///
/// Nothing is parsed when the value is built: ``RtnlReconciler`` validates the
/// whole state at the start of every pass and rejects it, naming the entry,
/// before anything is applied.
public struct RtnlDesiredState: Sendable, Hashable, Codable, ExpressibleByArrayLiteral {
    /// Addresses, in the order written; nil when addresses are not managed.
    public var addresses: [RtnlAddressEntry]?
    /// Routes, in the order written; nil when routes are not managed.
    public var routes: [RtnlRouteEntry]?

    /// A desired state that manages both kinds, with no entry yet (fill it in
    /// with ``append(_:)``).
    public init() {
        self.init(addresses: [], routes: [])
    }

    /// A desired state from explicit lists; a kind left nil is not managed.
    public init(addresses: [RtnlAddressEntry]? = nil, routes: [RtnlRouteEntry]? = nil) {
        self.addresses = addresses
        self.routes = routes
    }

    /// A desired state from entries, addresses and routes in any mix. Both
    /// kinds are managed: a kind without an entry is managed as empty.
    public init(_ entries: [Entry]) {
        self.init(addresses: [], routes: [])
        for entry in entries { append(entry) }
    }

    /// A desired state from a list literal of entries (both kinds managed).
    public init(arrayLiteral entries: Entry...) {
        self.init(entries)
    }

    /// The state that owns nothing: reconciling to it deletes everything
    /// this reconciler owns, and nothing else.
    public static let empty = RtnlDesiredState(addresses: [], routes: [])

    /// Adds one entry at the end of its list (managing its kind from then on).
    public mutating func append(_ entry: Entry) {
        switch entry {
        case .address(let address):
            if addresses == nil { addresses = [] }
            addresses!.append(address)
        case .route(let route):
            if routes == nil { routes = [] }
            routes!.append(route)
        }
    }

    /// The kinds this state manages: those given, even empty.
    public var managed: RtnlKinds {
        var kinds: RtnlKinds = []
        if addresses != nil { kinds.insert(.addresses) }
        if routes != nil { kinds.insert(.routes) }
        return kinds
    }

    /// True when the state holds no address and no route.
    public var isEmpty: Bool { (addresses ?? []).isEmpty && (routes ?? []).isEmpty }

    private enum CodingKeys: String, CodingKey { case addresses, routes }

    /// Decodes `addresses` and `routes`, each optional: a missing key is a
    /// kind not managed, `[]` a kind managed as empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        addresses = try container.decodeIfPresent([RtnlAddressEntry].self, forKey: .addresses)
        routes = try container.decodeIfPresent([RtnlRouteEntry].self, forKey: .routes)
    }
}

/// The kinds of object an rtnl desired state can manage.
public struct RtnlKinds: OptionSet, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The bits.
    public let rawValue: UInt8

    /// Kinds from their bits.
    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// Interface addresses.
    public static let addresses = RtnlKinds(rawValue: 1)
    /// Routes.
    public static let routes = RtnlKinds(rawValue: 2)
    /// Both.
    public static let all: RtnlKinds = [.addresses, .routes]

    /// `["addresses", "routes"]`: the kinds' names, as a document writes them.
    public var names: [String] {
        (contains(.addresses) ? ["addresses"] : []) + (contains(.routes) ? ["routes"] : [])
    }

    /// `addresses, routes`, or `nothing`.
    public var description: String {
        names.isEmpty ? "nothing" : names.joined(separator: ", ")
    }
}

extension RtnlDesiredState {
    /// One entry of a desired state, as a list literal takes it.
    public enum Entry: Sendable, Hashable {
        /// An address on an interface.
        case address(RtnlAddressEntry)
        /// A route.
        case route(RtnlRouteEntry)

        /// `cidr` (`10.0.0.2/24`) on the interface named `interface`.
        public static func address(_ cidr: String, on interface: String) -> Entry {
            .address(RtnlAddressEntry(interface: interface, address: cidr))
        }

        /// A route to `destination` (`10.50.0.0/24`, or `default`) via a
        /// gateway and/or out of an interface.
        public static func route(
            to destination: String, via gateway: String? = nil, dev interface: String? = nil,
            table: UInt32? = nil, metric: UInt32? = nil
        ) -> Entry {
            .route(RtnlRouteEntry(
                destination: destination, gateway: gateway, interface: interface,
                table: table, metric: metric))
        }

        /// The default route via `gateway`; its family is the gateway's.
        public static func defaultRoute(
            via gateway: String, dev interface: String? = nil,
            table: UInt32? = nil, metric: UInt32? = nil
        ) -> Entry {
            route(to: "default", via: gateway, dev: interface, table: table, metric: metric)
        }
    }
}
