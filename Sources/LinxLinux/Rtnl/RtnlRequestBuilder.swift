import CNetlink
import Glibc
import LinxReconcile
import SystemPackage

/// Builds the change requests, with libnl.
///
/// Addresses go through libnl's own request builder
/// (`rtnl_addr_build_add_request`), and IFA_PROTO, which no libnl release
/// knows, is appended to that message with `nla_put_u8`. Routes are built
/// attribute by attribute with `nla_put_*`, because libnl's route builder
/// guesses a scope for deletes, and a delete must match by key only (plus the
/// protocol, so another owner's route with the same key is never removed).
enum RtnlRequestBuilder {
    static func familyCode(_ family: AddressFamily) -> UInt8 {
        UInt8(family == .ipv4 ? AF_INET : AF_INET6)
    }

    static func build(_ request: RtnlRequest) throws(KernelError) -> NetlinkMessage {
        switch request {
        case .addAddress(let address): try self.address(address, delete: false)
        case .deleteAddress(let address): try self.address(address, delete: true)
        case .addRoute(let route): try self.route(route, type: Int32(RTM_NEWROUTE), flags: NLM_F_CREATE | NLM_F_EXCL)
        case .replaceRoute(let route): try self.route(route, type: Int32(RTM_NEWROUTE), flags: NLM_F_CREATE | NLM_F_REPLACE)
        case .deleteRoute(let route): try self.route(route, type: Int32(RTM_DELROUTE), flags: 0)
        }
    }

    private static func address(_ address: InterfaceAddress, delete: Bool) throws(KernelError) -> NetlinkMessage {
        guard let object = rtnl_addr_alloc() else { throw KernelError(.noMemory, "rtnl_addr_alloc failed") }
        defer { rtnl_addr_put(object) }
        let family = Int32(familyCode(address.family))
        let bytes = address.address.bytes
        guard let local = bytes.withUnsafeBytes({ nl_addr_build(family, $0.baseAddress, $0.count) }) else {
            throw KernelError(.noMemory, "nl_addr_build failed")
        }
        defer { nl_addr_put(local) }
        rtnl_addr_set_ifindex(object, address.ifindex)
        rtnl_addr_set_family(object, family)
        // libnl treats prefix length 0 as unset and refuses to build the
        // request ("Missing attribute"); build it with 1 and patch the header.
        let libnlLength = Int32(max(address.prefixLength, 1))
        nl_addr_set_prefixlen(local, libnlLength)
        _ = rtnl_addr_set_local(object, local)
        rtnl_addr_set_prefixlen(object, libnlLength)
        var raw: OpaquePointer?
        let rc = delete
            ? rtnl_addr_build_delete_request(object, 0, &raw)
            : rtnl_addr_build_add_request(object, NLM_F_EXCL, &raw)
        guard rc >= 0, let raw else {
            throw KernelError(.invalidArgument, "libnl refused to build the \(address): \(String(cString: nl_geterror(rc)))")
        }
        let message = NetlinkMessage(adopting: raw)
        if address.prefixLength == 0, let payload = nlmsg_data(message.header) {
            payload.assumingMemoryBound(to: ifaddrmsg.self).pointee.ifa_prefixlen = 0
        }
        if !delete, let proto = address.proto { try message.put(u8: proto, Int32(IFA_PROTO)) }
        return message
    }

    private static func route(_ route: Route, type: Int32, flags: Int32) throws(KernelError) -> NetlinkMessage {
        let message = try NetlinkMessage(type: type, flags: flags)
        let deleting = type == Int32(RTM_DELROUTE)
        var header = rtmsg()
        header.rtm_family = familyCode(route.family)
        header.rtm_dst_len = UInt8(route.destination.length)
        header.rtm_tos = route.tos
        header.rtm_table = route.table < 256 ? UInt8(route.table) : UInt8(RT_TABLE_UNSPEC.rawValue)
        header.rtm_protocol = route.proto
        // RT_SCOPE_NOWHERE and RTN_UNSPEC make a delete match any scope and type.
        header.rtm_scope = deleting ? UInt8(RT_SCOPE_NOWHERE.rawValue) : route.scope
        header.rtm_type = deleting ? UInt8(RTN_UNSPEC) : route.type.rawValue
        try message.append(header)
        try message.put(u32: route.table, Int32(RTA_TABLE.rawValue))
        if route.destination.length > 0 { try message.put(address: route.destination.address, Int32(RTA_DST.rawValue)) }
        if route.metric != 0 { try message.put(u32: route.metric, Int32(RTA_PRIORITY.rawValue)) }
        if !deleting {
            if let gateway = route.gateway { try message.put(address: gateway, Int32(RTA_GATEWAY.rawValue)) }
            if let ifindex = route.ifindex { try message.put(u32: UInt32(bitPattern: ifindex), Int32(RTA_OIF.rawValue)) }
        }
        return message
    }
}
