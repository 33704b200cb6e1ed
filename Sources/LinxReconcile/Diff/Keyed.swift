/// An item the diff engine can match between desired and observed: it has an
/// identity (`key`, what the kernel indexes it by) separate from its value.
public protocol Keyed: Sendable, Hashable {
    associatedtype Key: Sendable, Hashable, Comparable
    var key: Key { get }
}

extension Route: Keyed {}
extension InterfaceAddress: Keyed {}
