import CNetlink
import Glibc
import LinxReconcile
import SystemPackage

/// Dumps over a namespace's request socket.
///
/// A dump the kernel marks NLM_F_DUMP_INTR (the table changed while it was
/// being read) is read to its end and discarded, then retried a bounded number
/// of times; if it is still interrupted, EINTR is thrown. A partial dump is
/// never returned: diffing one would delete what was merely not seen.
extension RtnlSocket {
    /// Dump attempts before giving up with EINTR.
    static let dumpAttempts = 5

    /// Sends the request `build` makes and collects `parse` of every reply.
    func dump<T>(
        _ build: () throws(KernelError) -> NetlinkMessage,
        arena: ReceiveArena,
        parse: (UnsafeMutablePointer<nlmsghdr>) -> T?
    ) throws(KernelError) -> [T] {
        for _ in 1...Self.dumpAttempts {
            var items: [T] = []
            let interrupted = try dumpOnce(build(), arena: arena) { message in
                if let item = parse(message) { items.append(item) }
            }
            if !interrupted { return items }
        }
        throw KernelError(.interrupted, "dump interrupted \(Self.dumpAttempts) times in a row (table kept changing)")
    }

    /// One dump; returns whether the kernel marked it interrupted.
    private func dumpOnce(
        _ request: NetlinkMessage, arena: ReceiveArena, _ body: (UnsafeMutablePointer<nlmsghdr>) -> Void
    ) throws(KernelError) -> Bool {
        let sequence = reserveSequences(1)
        var buffer: [UInt8] = []
        request.encode(sequence: sequence, into: &buffer)
        try send(buffer)
        var interrupted = false
        var done = false
        var failure: KernelError?
        while !done {
            try receive(into: arena) { message throws(KernelError) in
                // Stray acks of an earlier exchange carry other numbers.
                guard message.pointee.nlmsg_seq == sequence, !done else { return }
                if Int32(message.pointee.nlmsg_flags) & NLM_F_DUMP_INTR != 0 { interrupted = true }
                switch Int32(message.pointee.nlmsg_type) {
                case NLMSG_DONE:
                    done = true
                    // NLMSG_DONE carries the dump's final status as an int.
                    if nlmsg_datalen(message) >= 4 {
                        let status = nlmsg_data(message)!.load(as: Int32.self)
                        if status < 0 { failure = KernelError(Errno(rawValue: -status)) }
                    }
                case NLMSG_ERROR:
                    done = true
                    if case .failure(let error) = NetlinkAck.decode(message) { failure = error }
                case NLMSG_NOOP, NLMSG_OVERRUN:
                    break
                default:
                    body(message)
                }
            }
        }
        if let failure { throw failure }
        return interrupted
    }
}

/// The dump requests. With NETLINK_GET_STRICT_CHK the kernel validates the
/// header (every field not used as a filter must be zero) and filters routes
/// by rtm_table / RTA_TABLE and rtm_protocol itself.
enum RtnlDumpRequest {
    static func links() throws(KernelError) -> NetlinkMessage {
        let message = try NetlinkMessage(type: Int32(RTM_GETLINK), flags: NLM_F_DUMP)
        try message.append(ifinfomsg())
        return message
    }

    static func addresses() throws(KernelError) -> NetlinkMessage {
        let message = try NetlinkMessage(type: Int32(RTM_GETADDR), flags: NLM_F_DUMP)
        try message.append(ifaddrmsg())
        return message
    }

    static func routes(_ filter: RouteFilter) throws(KernelError) -> NetlinkMessage {
        let message = try NetlinkMessage(type: Int32(RTM_GETROUTE), flags: NLM_F_DUMP)
        var header = rtmsg()
        header.rtm_family = filter.family.map(RtnlRequestBuilder.familyCode) ?? UInt8(AF_UNSPEC)
        header.rtm_protocol = filter.proto ?? 0
        try message.append(header)
        if let table = filter.table { try message.put(u32: table, Int32(RTA_TABLE.rawValue)) }
        return message
    }
}
