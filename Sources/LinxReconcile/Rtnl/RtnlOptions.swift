/// How an ``RtnlReconciler`` pass decides what it owns.
public struct RtnlOptions: Sendable, Hashable, Codable {
    /// The `rtm_protocol` tag every route this reconciler installs carries,
    /// and the only routes it ever updates or deletes (two-way ownership).
    /// Default 76 (ASCII 'L', ``RouteProtocol/linx``). The kernel's own tags
    /// (``RouteProtocol/kernelReserved``: 0 unspec, 1 redirect, 2 kernel,
    /// 9 router advertisement) are refused: claiming them would delete routes
    /// the kernel made. 3 (boot) is what `ip route add` tags by default, so
    /// choosing it claims every route an administrator added by hand.
    public var routeProtocol: UInt8
    /// When set, addresses this reconciler adds carry this IFA_PROTO tag
    /// (Linux 5.18+, `ip addr add ... proto N`), and any observed address
    /// carrying it is ours even when ``RtnlLastApplied`` does not say so: an
    /// address added just before a crash (before its record was saved) is
    /// still recognised and released. Nil (the default) keeps three-way
    /// ownership through ``RtnlLastApplied`` alone, which works on every
    /// kernel (an older kernel ignores the tag, and ownership falls back to
    /// the record). The kernel's own tags, 0-3, are
    /// refused: they would claim addresses the kernel made.
    public var addressProtocol: UInt8?
    /// When true, a desired address that is already in the kernel (added by
    /// someone else, or found answering EEXIST) is adopted: recorded as owned,
    /// so it is deleted once no longer desired. False (the default): it is
    /// left as it is and never recorded, because an object that existed
    /// before Linx wanted it is not Linx's. Loopback and link-local addresses
    /// are never adopted.
    public var adoptExistingAddresses: Bool

    /// Options with the defaults: routes tagged 76, addresses three-way, nothing adopted.
    public init(
        routeProtocol: UInt8 = RouteProtocol.linx, addressProtocol: UInt8? = nil, adoptExistingAddresses: Bool = false
    ) {
        self.routeProtocol = routeProtocol
        self.addressProtocol = addressProtocol
        self.adoptExistingAddresses = adoptExistingAddresses
    }

    private enum CodingKeys: String, CodingKey { case routeProtocol, addressProtocol, adoptExistingAddresses }

    /// Decodes the options; a missing key takes its default.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        routeProtocol = try container.decodeIfPresent(UInt8.self, forKey: .routeProtocol) ?? RouteProtocol.linx
        addressProtocol = try container.decodeIfPresent(UInt8.self, forKey: .addressProtocol)
        adoptExistingAddresses = try container.decodeIfPresent(Bool.self, forKey: .adoptExistingAddresses) ?? false
    }

    /// The defaults.
    public static let `default` = RtnlOptions()

    /// Refuses ownership tags that would claim the kernel's own state.
    func validate() throws(ReconcileError) {
        if let meaning = RouteProtocol.kernelReserved[routeProtocol] {
            throw .invalidDesired(
                entry: "options.routeProtocol \(routeProtocol)",
                reason: "protocol \(routeProtocol) is the kernel's own tag (\(meaning)); owning it would delete them",
                path: ["options", "routeProtocol"])
        }
        if let tag = addressProtocol, let meaning = AddressProtocol.kernelReserved[tag] {
            throw .invalidDesired(
                entry: "options.addressProtocol \(tag)",
                reason: "IFA_PROTO \(tag) is the kernel's own tag (\(meaning)); owning it would delete addresses the kernel made",
                path: ["options", "addressProtocol"])
        }
    }
}
