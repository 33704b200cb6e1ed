import CNetlink
import LinxReconcile
import SystemPackage

/// Decodes an NLMSG_ERROR message: error 0 is an ack, otherwise the negated
/// errno exactly as the kernel set it, plus the NETLINK_EXT_ACK message text.
enum NetlinkAck {
    static func decode(_ message: UnsafeMutablePointer<nlmsghdr>) -> Result<Void, KernelError> {
        let payloadLength = Int(nlmsg_datalen(message))
        let errorSize = MemoryLayout<nlmsgerr>.size
        guard payloadLength >= errorSize, let payload = nlmsg_data(message) else {
            return .failure(KernelError(.ioError, "truncated netlink error message"))
        }
        let error = payload.load(as: nlmsgerr.self)
        if error.error == 0 { return .success(()) }
        let code = Errno(rawValue: -error.error)
        let flags = Int32(message.pointee.nlmsg_flags)
        guard flags & NLM_F_ACK_TLVS != 0 else { return .failure(KernelError(code)) }
        // The TLVs follow the echoed request: its header only when capped.
        var offset = errorSize
        if flags & NLM_F_CAPPED == 0 {
            offset += max(0, Int(error.msg.nlmsg_len) - MemoryLayout<nlmsghdr>.size)
        }
        let tlvLength = payloadLength - Int(linx_nlmsg_align(UInt32(offset)))
        let start = payload + Int(linx_nlmsg_align(UInt32(offset)))
        guard tlvLength > 0,
              let text = NetlinkAttributes.parse(stream: start, length: tlvLength, maxType: Int32(NLMSGERR_ATTR_MAX.rawValue), {
                  $0.string(Int32(NLMSGERR_ATTR_MSG.rawValue))
              }),
              !text.isEmpty
        else { return .failure(KernelError(code)) }
        return .failure(KernelError(code, text))
    }
}
