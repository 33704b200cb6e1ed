import LinxReconcile

/// Everything rtnetlink shows in one namespace, read directly (no backend
/// call, no fault), sorted: links by index, addresses and routes by key.
public struct SimNetnsSnapshot: Sendable, Hashable {
    /// Links by index.
    public var links: [Link]
    /// Addresses by key.
    public var addresses: [InterfaceAddress]
    /// Routes by key, every table.
    public var routes: [Route]

    /// A snapshot from its parts.
    public init(links: [Link], addresses: [InterfaceAddress], routes: [Route]) {
        self.links = links
        self.addresses = addresses
        self.routes = routes
    }

    /// The link called `name`, if any.
    public func link(named name: String) -> Link? { links.first { $0.name == name } }

    /// The routes of `table` (main by default).
    public func routes(inTable table: UInt32) -> [Route] { routes.filter { $0.table == table } }

    /// The route with `key`, if present.
    public func route(_ key: Route.Key) -> Route? { routes.first { $0.key == key } }
}
