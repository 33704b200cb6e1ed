import LinxReconcile

/// The device of each IPv4 route of a reading of the scope that is not the
/// kernel's, in dump order, with the links: what ``RtnlSimSubject``'s
/// `sideEffects` asks about the reading before a pass (snapshot entries
/// leave a route's device out). Kept instead of the reading's whole dump,
/// which the subject no longer builds.
struct RtnlRouteDevices: Sendable {
    typealias Route = (key: LinxReconcile.Route.Key, ifindex: Int32)

    var links: [Link] = []
    var routes: [Route] = []

    /// The keys of the routes out through `link`, nil when the reading has
    /// no such link.
    func routes(through link: String) -> [LinxReconcile.Route.Key]? {
        guard let index = links.first(where: { $0.name == link })?.index else { return nil }
        return routes.filter { $0.ifindex == index }.map(\.key)
    }
}
