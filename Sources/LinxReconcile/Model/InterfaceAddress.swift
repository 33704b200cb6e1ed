/// An address on an interface, as rtnetlink stores it.
public struct InterfaceAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What the kernel indexes an address by: interface, address, prefix length.
    public struct Key: Sendable, Hashable, Comparable, Codable {
        /// The interface index.
        public var ifindex: Int32
        /// The local address.
        public var address: IPAddress
        /// The prefix length.
        public var prefixLength: Int

        /// The key of `address/prefixLength` on interface `ifindex`.
        public init(ifindex: Int32, address: IPAddress, prefixLength: Int) {
            self.ifindex = ifindex
            self.address = address
            self.prefixLength = prefixLength
        }

        public static func < (a: Key, b: Key) -> Bool {
            (a.ifindex, a.address, a.prefixLength) < (b.ifindex, b.address, b.prefixLength)
        }
    }

    /// The interface index.
    public var ifindex: Int32
    /// The local address.
    public var address: IPAddress
    /// The prefix length of the subnet it sits on.
    public var prefixLength: Int
    /// The IFA_PROTO tag (Linux 5.18+), nil when the kernel reported none.
    public var proto: UInt8?
    /// Interface name, filled in by reconcilers for reports; not identity.
    public var interfaceName: String?

    /// An address on interface `ifindex`; `interfaceName` only labels reports.
    public init(ifindex: Int32, address: IPAddress, prefixLength: Int, proto: UInt8? = nil, interfaceName: String? = nil) {
        self.ifindex = ifindex
        self.address = address
        self.prefixLength = prefixLength
        self.proto = proto
        self.interfaceName = interfaceName
    }

    /// Its identity for the diff: interface, address and prefix length.
    public var key: Key { Key(ifindex: ifindex, address: address, prefixLength: prefixLength) }
    /// The address family.
    public var family: AddressFamily { address.family }

    public var description: String {
        "address \(address)/\(prefixLength) dev \(interfaceName ?? "#\(ifindex)")"
            + (proto.map { " proto \($0)" } ?? "")
    }
}
