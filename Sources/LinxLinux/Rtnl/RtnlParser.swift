import CNetlink
import Glibc
import LinxReconcile
import SystemPackage

/// Turns rtnetlink messages into the model's values. The family headers are
/// read directly; attributes go through libnl's parser. IFA_PROTO has no
/// libnl getter in any release, so it is read from the attribute table here.
enum RtnlParser {
    static func family(_ raw: UInt8) -> AddressFamily? {
        switch Int32(raw) {
        case AF_INET: .ipv4
        case AF_INET6: .ipv6
        default: nil
        }
    }

    /// RTM_NEWLINK / RTM_DELLINK.
    static func link(_ message: UnsafeMutablePointer<nlmsghdr>) -> Link? {
        guard nlmsg_datalen(message) >= MemoryLayout<ifinfomsg>.size else { return nil }
        let info = nlmsg_data(message)!.load(as: ifinfomsg.self)
        return NetlinkAttributes.parse(message, headerLength: MemoryLayout<ifinfomsg>.size, maxType: Int32(IFLA_LINKINFO)) { attributes in
            var kind: String?
            if let nested = attributes[Int32(IFLA_LINKINFO)] {
                kind = NetlinkAttributes.parse(nested: nested, maxType: Int32(IFLA_INFO_KIND)) { $0.string(Int32(IFLA_INFO_KIND)) }
            }
            if kind == nil && Int32(info.ifi_type) == ARPHRD_LOOPBACK { kind = "loopback" }
            return Link(
                index: info.ifi_index,
                name: attributes.string(Int32(IFLA_IFNAME)) ?? "",
                kind: kind,
                isUp: info.ifi_flags & UInt32(IFF_UP.rawValue) != 0,
                mtu: attributes.u32(Int32(IFLA_MTU)) ?? 0)
        }
    }

    /// RTM_NEWADDR / RTM_DELADDR. IPv4 carries the local address in IFA_LOCAL
    /// (IFA_ADDRESS is the peer); IPv6 only has IFA_ADDRESS.
    static func address(_ message: UnsafeMutablePointer<nlmsghdr>) -> InterfaceAddress? {
        guard nlmsg_datalen(message) >= MemoryLayout<ifaddrmsg>.size else { return nil }
        let header = nlmsg_data(message)!.load(as: ifaddrmsg.self)
        guard let family = family(header.ifa_family) else { return nil }
        return NetlinkAttributes.parse(message, headerLength: MemoryLayout<ifaddrmsg>.size, maxType: linx_ifa_max()) { attributes in
            let local = family == .ipv4 ? attributes.address(Int32(IFA_LOCAL), family: family) : nil
            guard let address = local ?? attributes.address(Int32(IFA_ADDRESS), family: family) else { return nil }
            return InterfaceAddress(
                ifindex: Int32(bitPattern: header.ifa_index),
                address: address,
                prefixLength: Int(header.ifa_prefixlen),
                proto: attributes.u8(Int32(IFA_PROTO)))
        }
    }

    /// RTM_NEWROUTE / RTM_DELROUTE. Families other than inet/inet6 (ipmr,
    /// mpls) and route types the model does not name are skipped.
    static func route(_ message: UnsafeMutablePointer<nlmsghdr>) -> Route? {
        guard nlmsg_datalen(message) >= MemoryLayout<rtmsg>.size else { return nil }
        let header = nlmsg_data(message)!.load(as: rtmsg.self)
        guard let family = family(header.rtm_family), let type = RouteType(rawValue: header.rtm_type) else { return nil }
        return NetlinkAttributes.parse(message, headerLength: MemoryLayout<rtmsg>.size, maxType: linx_rta_max()) { attributes in
            route(header, family: family, type: type, attributes)
        }
    }

    private static func route(_ header: rtmsg, family: AddressFamily, type: RouteType, _ attributes: NetlinkAttributes) -> Route? {
        let base = attributes.address(Int32(RTA_DST.rawValue), family: family)
            ?? (family == .ipv4 ? IPAddress.v4(0) : .v6(high: 0, low: 0))
        guard let destination = try? IPPrefix(base.masked(to: Int(header.rtm_dst_len)), length: Int(header.rtm_dst_len))
        else { return nil }
        let table = attributes.u32(Int32(RTA_TABLE.rawValue)) ?? UInt32(header.rtm_table)
        let ifindex = attributes.u32(Int32(RTA_OIF.rawValue)).map { Int32(bitPattern: $0) }
        var route = Route(
            destination: destination,
            gateway: attributes.address(Int32(RTA_GATEWAY.rawValue), family: family),
            ifindex: ifindex,
            table: table,
            metric: attributes.u32(Int32(RTA_PRIORITY.rawValue)) ?? 0,
            tos: header.rtm_tos,
            proto: header.rtm_protocol,
            scope: header.rtm_scope,
            type: type,
            prefsrc: attributes.address(Int32(RTA_PREFSRC.rawValue), family: family))
        // The kernel's own IPv6 local and anycast routes carry metric 0; only a
        // request's 0 becomes 1024, so the dump's value is kept as it is.
        route.metric = attributes.u32(Int32(RTA_PRIORITY.rawValue)) ?? 0
        return route
    }
}
