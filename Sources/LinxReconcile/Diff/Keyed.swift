/// An item the diff engine can match between desired and observed: it has an
/// identity (`key`, what the kernel indexes it by) separate from its value.
public protocol Keyed: Sendable, Hashable {
    /// The identity; `Comparable` so that plans come out in one canonical order.
    associatedtype Key: Sendable, Hashable, Comparable
    /// This item's identity.
    var key: Key { get }
}

extension Route: Keyed {}
extension InterfaceAddress: Keyed {}
