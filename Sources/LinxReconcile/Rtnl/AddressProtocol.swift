/// IFA_PROTO values, and the addresses the kernel makes for itself, which
/// Linx never owns, adopts or deletes.
///
/// Linux 5.18+ tags addresses with who made them (`include/uapi/linux/if_addr.h`):
/// 0 untagged, 1 the loopback addresses it adds when lo comes up, 2 the
/// addresses SLAAC derives from router advertisements, 3 the IPv6
/// link-local addresses addrconf makes on every link. Checked on Linux 6.18
/// (a real-kernel test reads them): `::1` on lo carries 1, every IPv6
/// link-local address 3, 127.0.0.1 none. Those four values are the kernel's;
/// an ownership tag must be one of 4...255.
///
/// Kernels before 5.18 (and addresses made before an upgrade) carry no tag,
/// so the kernel's loopback and link-local addresses are also recognised by
/// what they are: 127.0.0.0/8 and ::1 (loopback), fe80::/10 (IPv6
/// link-local). IPv4 link-local (169.254.0.0/16) is not among them: the
/// kernel never makes one, they are configured by someone (a node-local DNS
/// cache, say), and one Linx added is Linx's to release.
package enum AddressProtocol {
    /// IFAPROT_UNSPEC: untagged.
    public static let unspecified: UInt8 = 0
    /// IFAPROT_KERNEL_LO: the loopback addresses the kernel adds to lo.
    public static let kernelLoopback: UInt8 = 1
    /// IFAPROT_KERNEL_RA: addresses SLAAC made from a router advertisement.
    public static let kernelRouterAdvertisement: UInt8 = 2
    /// IFAPROT_KERNEL_LL: the IPv6 link-local addresses addrconf makes.
    public static let kernelLinkLocal: UInt8 = 3

    /// The tags reserved to the kernel, with what each means.
    public static let kernelReserved: [UInt8: String] = [
        unspecified: "untagged",
        kernelLoopback: "the kernel's loopback addresses",
        kernelRouterAdvertisement: "addresses the kernel made from router advertisements",
        kernelLinkLocal: "the kernel's IPv6 link-local addresses",
    ]

    /// True for an address the kernel made, or could have made, for itself:
    /// tagged 1-3, or a loopback or IPv6 link-local address whatever its tag.
    /// Such an address is never owned, adopted or deleted.
    public static func isKernels(_ address: IPAddress, proto: UInt8?) -> Bool {
        if let proto, proto != unspecified, kernelReserved[proto] != nil { return true }
        switch address {
        case .v4(let value): return value >> 24 == 127
        case .v6(let high, let low): return (high == 0 && low == 1) || address.isIPv6LinkLocal
        }
    }
}
