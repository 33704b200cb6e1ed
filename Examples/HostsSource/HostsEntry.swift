import LinxReconcile

/// One line of the hosts store: a host name and the address it resolves to.
/// The name is the identity (what the diff matches on); the address is the value.
public struct HostsEntry: Keyed, Codable, CustomStringConvertible {
    public var name: String
    public var address: String

    public init(_ name: String, _ address: String) {
        self.name = name
        self.address = address
    }

    public var key: String { name }

    public var description: String { "\(name) \(address)" }
}
