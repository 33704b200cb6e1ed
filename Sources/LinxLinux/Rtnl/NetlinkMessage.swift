import CNetlink
import Glibc
import LinxReconcile
import SystemPackage

/// One netlink request under construction, built by libnl (`nlmsg_*`,
/// `nla_put_*`) and freed with it.
///
/// The sequence number and flags are set by the sender, which packs many
/// messages into one `send` and matches the acks itself.
final class NetlinkMessage {
    let raw: OpaquePointer

    /// A message of `type` (RTM_NEWROUTE ...) with `flags` (NLM_F_*).
    init(type: Int32, flags: Int32) throws(KernelError) {
        guard let raw = nlmsg_alloc_simple(type, flags) else { throw KernelError(.noMemory, "nlmsg_alloc_simple failed") }
        self.raw = raw
    }

    /// Adopts a message libnl built (rtnl_*_build_*_request).
    init(adopting raw: OpaquePointer) { self.raw = raw }

    deinit { nlmsg_free(raw) }

    var header: UnsafeMutablePointer<nlmsghdr> { nlmsg_hdr(raw) }

    /// Appends the family header (rtmsg, ifaddrmsg, ifinfomsg).
    func append<Header>(_ value: Header) throws(KernelError) {
        var copy = value
        let rc = withUnsafeMutableBytes(of: &copy) { bytes in
            nlmsg_append(raw, bytes.baseAddress, bytes.count, Int32(NLMSG_ALIGNTO))
        }
        try check(rc, "family header")
    }

    func put(u8 value: UInt8, _ type: Int32) throws(KernelError) {
        try check(nla_put_u8(raw, type, value), "attribute \(type)")
    }

    func put(u32 value: UInt32, _ type: Int32) throws(KernelError) {
        try check(nla_put_u32(raw, type, value), "attribute \(type)")
    }

    func put(address: IPAddress, _ type: Int32) throws(KernelError) {
        let bytes = address.bytes
        try check(bytes.withUnsafeBytes { nla_put(raw, type, Int32($0.count), $0.baseAddress) }, "attribute \(type)")
    }

    /// Appends the finished message to `buffer` with its sequence number and
    /// NLM_F_ACK set, so every request is answered by exactly one ack.
    func encode(sequence: UInt32, into buffer: inout [UInt8]) {
        let header = self.header
        header.pointee.nlmsg_seq = sequence
        header.pointee.nlmsg_pid = 0
        header.pointee.nlmsg_flags |= UInt16(NLM_F_REQUEST | NLM_F_ACK)
        let length = Int(header.pointee.nlmsg_len)
        buffer.append(contentsOf: UnsafeRawBufferPointer(start: header, count: length))
        let padded = Int(linx_nlmsg_align(UInt32(length)))
        if padded > length { buffer.append(contentsOf: repeatElement(0, count: padded - length)) }
    }

    private func check(_ rc: Int32, _ what: String) throws(KernelError) {
        if rc < 0 { throw KernelError(.noMemory, "libnl could not add the \(what): \(String(cString: nl_geterror(rc)))") }
    }
}
