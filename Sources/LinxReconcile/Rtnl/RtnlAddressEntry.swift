/// One address in an ``RtnlDesiredState``: an IP address with its prefix
/// length on an interface named as the user knows it (`eth0`), never by index.
///
/// The text is kept exactly as written so that an invalid entry can be named
/// in the error; it is parsed and resolved against a fresh link list on every
/// pass.
public struct RtnlAddressEntry: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The interface name, e.g. `eth0`.
    public var interface: String
    /// `ADDR/LEN` (`10.0.0.2/24`, `fc00::1/64`). A bare address is a host
    /// address (/32 or /128), as `ip addr add` reads it.
    public var address: String

    /// An address entry, as written.
    public init(interface: String, address: String) {
        self.interface = interface
        self.address = address
    }

    /// `address 10.0.0.2/24 on eth0`.
    public var description: String { "address \(address) on \(interface)" }
}
