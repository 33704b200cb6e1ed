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
    public var interfaceName: String? {
        get { packedName.string }
        set { packedName = PackedName(newValue) }
    }
    /// ``interfaceName``'s storage: plain bytes, so an address copies
    /// without reference counting (see ``PackedName``).
    package var packedName: PackedName

    /// An address on interface `ifindex`; `interfaceName` only labels reports.
    public init(ifindex: Int32, address: IPAddress, prefixLength: Int, proto: UInt8? = nil, interfaceName: String? = nil) {
        self.ifindex = ifindex
        self.address = address
        self.prefixLength = prefixLength
        self.proto = proto
        self.packedName = PackedName(interfaceName)
    }

    private enum CodingKeys: String, CodingKey {
        case ifindex, address, prefixLength, proto, interfaceName
    }

    // Written out because the name's storage is not the coded form: the
    // same keys, in the same order, as the synthesized coding they replace.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ifindex = try c.decode(Int32.self, forKey: .ifindex)
        address = try c.decode(IPAddress.self, forKey: .address)
        prefixLength = try c.decode(Int.self, forKey: .prefixLength)
        proto = try c.decodeIfPresent(UInt8.self, forKey: .proto)
        packedName = PackedName(try c.decodeIfPresent(String.self, forKey: .interfaceName))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ifindex, forKey: .ifindex)
        try c.encode(address, forKey: .address)
        try c.encode(prefixLength, forKey: .prefixLength)
        try c.encodeIfPresent(proto, forKey: .proto)
        try c.encodeIfPresent(interfaceName, forKey: .interfaceName)
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
