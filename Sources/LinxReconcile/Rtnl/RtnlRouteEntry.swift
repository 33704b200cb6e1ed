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
    public var destination: String
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

    /// A route entry, as written.
    public init(
        destination: String, gateway: String? = nil, interface: String? = nil,
        table: UInt32? = nil, metric: UInt32? = nil
    ) {
        self.destination = destination
        self.gateway = gateway
        self.interface = interface
        self.table = table
        self.metric = metric
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
