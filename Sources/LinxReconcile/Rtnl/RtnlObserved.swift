/// One observation of a namespace, as a pass sees it: one dump of each
/// resource kind.
public struct RtnlObserved: Sendable, Hashable {
    /// Every link, for name <-> index resolution.
    public var links: [Link]
    /// Every address, interface names filled in.
    public var addresses: [InterfaceAddress]
    /// The routes carrying the ownership tag, interface names filled in.
    /// Foreign routes are not dumped: they are invisible to the reconciler.
    public var routes: [Route]

    /// An observation.
    public init(links: [Link], addresses: [InterfaceAddress], routes: [Route]) {
        self.links = links
        self.addresses = addresses
        self.routes = routes
    }
}
