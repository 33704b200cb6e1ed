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
/// Nothing is parsed when the value is built: ``RtnlReconciler`` validates the
/// whole state at the start of every pass and rejects it, naming the entry,
/// before anything is applied.
public struct RtnlDesiredState: Sendable, Hashable, Codable, ExpressibleByArrayLiteral {
    /// Addresses, in the order written.
    public var addresses: [RtnlAddressEntry]
    /// Routes, in the order written.
    public var routes: [RtnlRouteEntry]

    /// An empty desired state, to fill in with ``append(_:)`` or the lists.
    public init() {
        self.init(addresses: [], routes: [])
    }

    /// A desired state from explicit lists.
    public init(addresses: [RtnlAddressEntry] = [], routes: [RtnlRouteEntry] = []) {
        self.addresses = addresses
        self.routes = routes
    }

    /// A desired state from entries, addresses and routes in any mix.
    public init(_ entries: [Entry]) {
        self.init(addresses: [], routes: [])
        for entry in entries { append(entry) }
    }

    /// A desired state from a list literal of entries.
    public init(arrayLiteral entries: Entry...) {
        self.init(entries)
    }

    /// The state that owns nothing: reconciling to it deletes everything
    /// this reconciler owns, and nothing else.
    public static let empty = RtnlDesiredState(addresses: [], routes: [])

    /// Adds one entry at the end of its list.
    public mutating func append(_ entry: Entry) {
        switch entry {
        case .address(let address): addresses.append(address)
        case .route(let route): routes.append(route)
        }
    }

    /// True when the state holds no address and no route.
    public var isEmpty: Bool { addresses.isEmpty && routes.isEmpty }

    private enum CodingKeys: String, CodingKey { case addresses, routes }

    /// Decodes `addresses` and `routes`, each optional (missing means none).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        addresses = try container.decodeIfPresent([RtnlAddressEntry].self, forKey: .addresses) ?? []
        routes = try container.decodeIfPresent([RtnlRouteEntry].self, forKey: .routes) ?? []
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
