import CNetlink
import Glibc
import LinxReconcile
import SystemPackage

/// An `ip monitor`: a libnl socket subscribed to the link, IPv4/IPv6 address
/// and IPv4/IPv6 route groups, read on demand by a ``NetlinkReceiveLoop``.
///
/// The socket is opened on the namespace's thread (so it belongs to that
/// namespace) and is then read from whichever task iterates the events.
/// Multicast messages carry sequence number 0, so libnl's sequence check is
/// disabled.
enum RtnlMonitor {
    static let groups: [UInt32] = [
        RTNLGRP_LINK.rawValue, RTNLGRP_IPV4_IFADDR.rawValue, RTNLGRP_IPV6_IFADDR.rawValue,
        RTNLGRP_IPV4_ROUTE.rawValue, RTNLGRP_IPV6_ROUTE.rawValue,
    ]

    /// Opens and subscribes. Must run inside the target namespace.
    static func open(receiveBuffer: Int) throws(KernelError) -> NetlinkReceiveLoop<RtnlEvent> {
        guard let handle = nl_socket_alloc() else { throw KernelError(.noMemory, "nl_socket_alloc failed") }
        nl_socket_disable_seq_check(handle)
        let rc = nl_connect(handle, NETLINK_ROUTE)
        if rc < 0 {
            let code = linx_errno()
            nl_socket_free(handle)
            throw KernelError(Errno(rawValue: code == 0 ? EPROTONOSUPPORT : code), "cannot open a monitor socket: \(String(cString: nl_geterror(rc)))")
        }
        for group in groups {
            let joined = nl_socket_add_membership(handle, Int32(group))
            if joined < 0 {
                nl_socket_free(handle)
                throw KernelError(.invalidArgument, "cannot join rtnetlink group \(group): \(String(cString: nl_geterror(joined)))")
            }
        }
        _ = nl_socket_set_nonblocking(handle)
        let fd = nl_socket_get_fd(handle)
        _ = RtnlSocket.setReceiveBuffer(fd: fd, bytes: receiveBuffer)
        // The handle is only touched again to free it, once, by the loop.
        let address = UInt(bitPattern: handle)
        return NetlinkReceiveLoop(
            fd: fd, name: "rtnetlink monitor", overflow: .overflow,
            release: { nl_socket_free(OpaquePointer(bitPattern: address)) },
            decode: { bytes, events in
                var remaining = Int32(bytes.count)
                var message: UnsafeMutablePointer<nlmsghdr>? = UnsafeMutableRawPointer(mutating: bytes.baseAddress)?.assumingMemoryBound(to: nlmsghdr.self)
                while let current = message, nlmsg_ok(current, remaining) != 0 {
                    if let event = Self.event(current) { events.append(event) }
                    message = nlmsg_next(current, &remaining)
                }
            })
    }

    static func event(_ message: UnsafeMutablePointer<nlmsghdr>) -> RtnlEvent? {
        switch Int32(message.pointee.nlmsg_type) {
        case Int32(RTM_NEWLINK): RtnlParser.link(message).map { .link($0, .new) }
        case Int32(RTM_DELLINK): RtnlParser.link(message).map { .link($0, .deleted) }
        case Int32(RTM_NEWADDR): RtnlParser.address(message).map { .address($0, .new) }
        case Int32(RTM_DELADDR): RtnlParser.address(message).map { .address($0, .deleted) }
        case Int32(RTM_NEWROUTE): RtnlParser.route(message).map { .route($0, .new) }
        case Int32(RTM_DELROUTE): RtnlParser.route(message).map { .route($0, .deleted) }
        default: nil
        }
    }
}
