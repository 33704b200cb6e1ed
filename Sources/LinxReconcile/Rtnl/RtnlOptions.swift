/// How an ``RtnlReconciler`` pass decides what it owns.
public struct RtnlOptions: Sendable, Hashable, Codable {
    /// The `rtm_protocol` tag every route this reconciler installs carries,
    /// and the only routes it ever updates or deletes (two-way ownership).
    /// Default 76 (ASCII 'L', ``RouteProtocol/linx``). 0 (unspec) and 2
    /// (kernel) are refused: claiming them would delete the kernel's own
    /// connected routes. 3 (boot) is what `ip route add` tags by default, so
    /// choosing it claims every route an administrator added by hand.
    public var routeProtocol: UInt8
    /// When set, addresses are owned two-way by their IFA_PROTO tag
    /// (Linux 5.18+, `ip addr add ... proto N`): addresses this reconciler
    /// adds carry the tag and any observed address carrying it is ours.
    /// Nil (the default) keeps three-way ownership through ``RtnlLastApplied``,
    /// which works on every kernel. 0 is refused (it means "no tag").
    public var addressProtocol: UInt8?

    /// Options with the defaults: routes tagged 76, addresses three-way.
    public init(routeProtocol: UInt8 = RouteProtocol.linx, addressProtocol: UInt8? = nil) {
        self.routeProtocol = routeProtocol
        self.addressProtocol = addressProtocol
    }

    /// The defaults.
    public static let `default` = RtnlOptions()

    /// Refuses ownership tags that would claim the kernel's own state.
    func validate() throws(ReconcileError) {
        if routeProtocol == 0 || routeProtocol == RouteProtocol.kernel {
            throw .invalidDesired(
                entry: "options.routeProtocol \(routeProtocol)",
                reason: "protocol \(routeProtocol) is the kernel's own tag; owning it would delete connected routes",
                path: ["options", "routeProtocol"])
        }
        if addressProtocol == 0 {
            throw .invalidDesired(
                entry: "options.addressProtocol 0",
                reason: "IFA_PROTO 0 means \"untagged\" and cannot mark ownership",
                path: ["options", "addressProtocol"])
        }
    }
}
