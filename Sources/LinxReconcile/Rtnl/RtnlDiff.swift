/// The pure rtnl diffs, usable on their own (to inspect a plan, or to apply
/// with a strategy of your own). No kernel access, O(n).
///
/// A `create`/`update` carries the desired object, a `delete` the observed one
/// (it holds the kernel's exact key and index).
public enum RtnlDiff {
    /// Two-way route diff: only observed routes tagged `protocol` can be
    /// updated or deleted; every other route (connected routes, other daemons,
    /// an administrator's) is invisible to it.
    ///
    /// Identity is the kernel's key (family, table, destination, tos,
    /// metric): a changed gateway or interface is an `update` (applied as a
    /// replace); a changed metric is a different route, so the new one is
    /// created and the old one deleted. A desired route without an interface
    /// matches an observed one on any interface (the kernel resolved it from
    /// the gateway).
    public static func routes(
        desired: some Sequence<Route>, observed: some Sequence<Route>, protocol: UInt8
    ) -> [ReconcileOp<Route>] {
        Diff.twoWay(
            desired: desired, observed: observed,
            isOwned: { $0.proto == `protocol` },
            isSame: sameRoute)
    }

    /// Three-way address diff: every observed address is seen (so a desired
    /// address that already exists is left as it is, whoever added it), but
    /// only those whose key is in `owned` are ever deleted.
    ///
    /// An address has no value beyond its key (interface, address, prefix
    /// length), so addresses are created or deleted, never updated.
    public static func addresses(
        desired: some Sequence<InterfaceAddress>, observed: some Sequence<InterfaceAddress>,
        owned: Set<InterfaceAddress.Key>
    ) -> [ReconcileOp<InterfaceAddress>] {
        Diff.threeWay(desired: desired, observed: observed, owned: owned, isSame: { _, _ in true })
    }

    /// Whether an observed route already is the desired one: same next hop,
    /// same type, and the desired interface when one was written.
    public static func sameRoute(_ desired: Route, _ observed: Route) -> Bool {
        desired.gateway == observed.gateway
            && desired.type == observed.type
            && (desired.ifindex == nil || desired.ifindex == observed.ifindex)
    }
}
