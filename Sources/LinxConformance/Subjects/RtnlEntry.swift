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

    /// Hashes the fields folded into one word, and an address's interface
    /// name not at all (an address rarely sits on two links): snapshots and
    /// audits hash every entry of the scope several times a pass, and each
    /// word fed to the hasher costs a SipHash round (a route's fields were
    /// three or four). Entries that fold to the same word only share a
    /// bucket: equal entries still hash equally; `==` compares every field.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .address(let host, _, let address, let prefixLength):
            let shape = UInt64(truncatingIfNeeded: prefixLength) << 8 | (host ? 2 : 0)
            hasher.combine(Self.word(address) ^ shape &* 0xC2B2_AE3D_27D4_EB4F)
        case .route(let host, let key):
            let shape = UInt64(key.tos) << 16 | UInt64(truncatingIfNeeded: key.destination.length) << 8 | (host ? 3 : 1)
            let place = UInt64(key.table) << 32 | UInt64(key.metric)
            hasher.combine(
                Self.word(key.destination.address) ^ place &* 0x9E37_79B9_7F4A_7C15 ^ shape &* 0xC2B2_AE3D_27D4_EB4F)
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

    /// An address in one word (IPv6's halves mixed, so the prefix bits of
    /// both count).
    private static func word(_ address: IPAddress) -> UInt64 {
        switch address {
        case .v4(let value): UInt64(value) | 1 << 32
        case .v6(let high, let low): high ^ low &* 0x1656_67B1_9E37_79F9
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
