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

    /// Field by field, as the derived `==` compares, but with the route
    /// key's and the addresses' comparisons written out here: the derived
    /// one called `Route.Key`'s `==` in another module (no inlining) for
    /// every probe of every snapshot, ledger and expected-entries lookup,
    /// about 1 % of a fuzz campaign.
    public static func == (a: RtnlEntry, b: RtnlEntry) -> Bool {
        switch (a, b) {
        case let (.route(hostA, keyA), .route(hostB, keyB)):
            hostA == hostB && keyA.table == keyB.table && keyA.metric == keyB.metric && keyA.tos == keyB.tos
                && keyA.destination.length == keyB.destination.length
                && same(keyA.destination.address, keyB.destination.address)
        case let (.address(hostA, interfaceA, addressA, lengthA), .address(hostB, interfaceB, addressB, lengthB)):
            hostA == hostB && lengthA == lengthB && same(addressA, addressB) && interfaceA == interfaceB
        default:
            false
        }
    }

    /// `IPAddress`'s derived `==`, written out (same case, same numbers).
    private static func same(_ a: IPAddress, _ b: IPAddress) -> Bool {
        switch (a, b) {
        case let (.v4(x), .v4(y)): x == y
        case let (.v6(highA, lowA), .v6(highB, lowB)): highA == highB && lowA == lowB
        default: false
        }
    }

    /// Hashes the fields packed into a few words, and an address's
    /// interface name not at all (an address rarely sits on two links):
    /// snapshots and audits hash every entry of the scope several times a
    /// pass. Equal entries still hash equally; `==` compares every field.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .address(let host, _, let address, let prefixLength):
            hasher.combine(UInt64(truncatingIfNeeded: prefixLength) << 8 | (host ? 2 : 0))
            Self.combine(address, into: &hasher)
        case .route(let host, let key):
            hasher.combine(UInt64(key.table) << 32 | UInt64(key.metric))
            hasher.combine(UInt64(key.tos) << 16 | UInt64(truncatingIfNeeded: key.destination.length) << 8 | (host ? 3 : 1))
            Self.combine(key.destination.address, into: &hasher)
        }
    }

    /// The hash dictionaries and sets use: the fields ``hash(into:)``
    /// hashes, packed into words and folded by a few multiplies with no
    /// Hasher at all (see `WordHash`): snapshots, the audit and the oracle
    /// look entries up hundreds of times a pass.
    public func _rawHashValue(seed: Int) -> Int {
        switch self {
        case .address(let host, _, let address, let prefixLength):
            let (a, b) = address.hashWords
            return WordHash.hash(seed: seed, a, b, UInt64(truncatingIfNeeded: prefixLength) << 8 | (host ? 2 : 0))
        case .route(let host, let key):
            let (a, b) = key.destination.address.hashWords
            return WordHash.hash(
                seed: seed, a, b, UInt64(key.table) << 32 | UInt64(key.metric),
                UInt64(key.tos) << 16 | UInt64(truncatingIfNeeded: key.destination.length) << 8 | (host ? 3 : 1))
        }
    }

    private static func combine(_ address: IPAddress, into hasher: inout Hasher) {
        switch address {
        case .v4(let value): hasher.combine(UInt64(value) | 1 << 32)
        case .v6(let high, let low):
            hasher.combine(high)
            hasher.combine(low)
        }
    }

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
