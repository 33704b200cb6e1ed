/// What an rtnl reconcile op acts on, as a report shows it: an address or a
/// route, with interface names filled in (never bare indices).
public enum RtnlObject: Sendable, Hashable, CustomStringConvertible {
    /// An interface address.
    case address(InterfaceAddress)
    /// A route.
    case route(Route)

    /// `address 10.0.0.2/24 dev eth0` or `route 10.50.0.0/24 via 10.0.0.1 dev eth0 proto 76`.
    public var description: String {
        switch self {
        case .address(let address): address.description
        case .route(let route): route.description
        }
    }

    /// The address, when this is one.
    public var address: InterfaceAddress? {
        if case .address(let address) = self { return address }
        return nil
    }

    /// The route, when this is one.
    public var route: Route? {
        if case .route(let route) = self { return route }
        return nil
    }
}
