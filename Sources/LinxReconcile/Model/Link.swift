/// A network interface as a dump reports it. Reconcilers only read links, to
/// resolve the names a desired state is written with into fresh indices.
public struct Link: Sendable, Hashable, Codable {
    /// The kernel's ifindex: ephemeral, never written in a desired state.
    public var index: Int32
    /// The interface name (`eth0`).
    public var name: String
    /// The link kind (`veth`, `bridge`, `loopback` ...), when known.
    public var kind: String?
    /// Administratively up.
    public var isUp: Bool
    /// MTU in bytes.
    public var mtu: UInt32

    /// A link as a dump reports it; the defaults describe a down link with the usual MTU.
    public init(index: Int32, name: String, kind: String? = nil, isUp: Bool = false, mtu: UInt32 = 1500) {
        self.index = index
        self.name = name
        self.kind = kind
        self.isUp = isUp
        self.mtu = mtu
    }
}
