/// The addresses an ``RtnlReconciler`` owns, threaded from one pass into the
/// next (three-way ownership; routes need none, their `rtm_protocol` is the
/// record).
///
/// Keys are written by interface *name*, address and prefix length, never
/// by ifindex: an interface deleted and created again gets a new index, and
/// the record must still mean the same thing (and stay meaningful when saved
/// to disk between runs).
///
/// What it holds after a pass: every desired address that is in the kernel
/// (found there, or added by the pass), plus every previously owned address
/// that is no longer desired but whose removal failed or was not reached
/// (so the next pass still removes it). An owned address that vanished from
/// the kernel on its own is dropped: if it reappears, someone else put it
/// there. A desired address that could not be added is not recorded until it
/// is in the kernel.
public struct RtnlLastApplied: Sendable, Hashable, Codable {
    /// One owned address.
    public struct AddressKey: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
        /// The interface name.
        public var interface: String
        /// The address.
        public var address: IPAddress
        /// Its prefix length.
        public var prefixLength: Int

        /// An owned address key.
        public init(interface: String, address: IPAddress, prefixLength: Int) {
            self.interface = interface
            self.address = address
            self.prefixLength = prefixLength
        }

        /// `10.0.0.2/24 on eth0`.
        public var description: String { "\(address)/\(prefixLength) on \(interface)" }

        /// The hash sets of keys use: `WordHash` over the address and the
        /// prefix length, the interface name left out (an address rarely
        /// sits on two links, and a String's hash is SipHash over its
        /// normalized text): a pass's ownership record is rebuilt whenever it
        /// added or removed an address. Equal keys still hash equally; `==`
        /// compares every field.
        public func _rawHashValue(seed: Int) -> Int {
            let (a, b) = address.hashWords
            return WordHash.hash(seed: seed, a, b, UInt64(truncatingIfNeeded: prefixLength))
        }

        /// By interface, then address, then prefix length.
        public static func < (a: AddressKey, b: AddressKey) -> Bool {
            (a.interface, a.address, a.prefixLength) < (b.interface, b.address, b.prefixLength)
        }
    }

    /// The owned addresses.
    public var addresses: Set<AddressKey>

    /// A record owning `addresses`.
    public init(addresses: Set<AddressKey> = []) {
        self.addresses = addresses
    }

    /// Owns nothing: the state of a first pass, and the safe fallback when a
    /// saved record is lost (nothing will be deleted that is not proven ours).
    public static let empty = RtnlLastApplied()

    private enum CodingKeys: String, CodingKey { case addresses }

    /// Decodes `addresses` (missing means none).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        addresses = try container.decodeIfPresent(Set<AddressKey>.self, forKey: .addresses) ?? []
    }

    /// Encodes `addresses` sorted, so a saved record is stable.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(addresses.sorted(), forKey: .addresses)
    }
}
