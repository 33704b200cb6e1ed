import LinxReconcile
import Synchronization

/// What a namespace's dumps returned since it last changed, and a stamp
/// naming its current links, addresses and routes.
///
/// A fuzzed Source dumps the namespace every pass and the conformance
/// subject reads it again after the pass, while most passes change
/// nothing: a dump that is still valid is handed out again instead of
/// being rebuilt (sorted, copied route by route). ``SimNetns`` clears the
/// part a change touches in the observers of `links`, `addresses` and
/// `routes`, the only state a dump reads, so a view can never outlive what
/// it shows.
struct SimNetnsViews: Sendable {
    /// Nil after a change until someone asks (see ``SimNetns/rtnlStamp()``).
    fileprivate(set) var stamp: UInt64?
    var links: [Link]?
    var addresses: [InterfaceAddress]?
    /// Every route, in dump order.
    var routes: [Route]?
    /// The last filtered route dump other than ``RouteFilter/all``.
    var filteredRoutes: (filter: RouteFilter, routes: [Route])?

    mutating func linksChanged() {
        stamp = nil
        links = nil
    }

    mutating func addressesChanged() {
        stamp = nil
        addresses = nil
    }

    mutating func routesChanged() {
        stamp = nil
        routes = nil
        filteredRoutes = nil
    }

    /// Stamps are unique in the process: two namespaces (copies of one
    /// value included) carry the same stamp only when they hold the same
    /// links, addresses and routes.
    fileprivate static let stamps = Atomic<UInt64>(0)
}

extension SimNetns {
    /// A number naming what the namespace's rtnetlink dumps show now: it
    /// stays the same until a link, address or route changes, and no other
    /// state (of any namespace of any kernel in this process) is ever given
    /// the same one after that. Made on demand, so changes cost no more than
    /// clearing it.
    mutating func rtnlStamp() -> UInt64 {
        if let stamp = views.stamp { return stamp }
        let fresh = SimNetnsViews.stamps.wrappingAdd(1, ordering: .relaxed).newValue
        views.stamp = fresh
        return fresh
    }

    /// ``linkList``, made once per change.
    mutating func dumpedLinks() -> [Link] {
        if let links = views.links { return links }
        let made = linkList
        views.links = made
        return made
    }

    /// ``addressList``, made once per change.
    mutating func dumpedAddresses() -> [InterfaceAddress] {
        if let addresses = views.addresses { return addresses }
        let made = addressList
        views.addresses = made
        return made
    }

    /// ``RouteStore/dump(_:)``, made once per change (per filter, for the
    /// last filter asked for besides every route).
    mutating func dumpedRoutes(_ filter: RouteFilter) -> [Route] {
        if filter == .all {
            if let routes = views.routes { return routes }
            let made = routes.all
            views.routes = made
            return made
        }
        if let last = views.filteredRoutes, last.filter == filter { return last.routes }
        let made = routes.dump(filter)
        views.filteredRoutes = (filter, made)
        return made
    }
}
