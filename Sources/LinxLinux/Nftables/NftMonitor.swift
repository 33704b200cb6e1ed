import CNetlink
import CNftables
import Glibc
import LinxReconcile
import SystemPackage

/// An `nft monitor`: a raw nfnetlink socket subscribed to NFNLGRP_NFTABLES,
/// read on demand by a ``NetlinkReceiveLoop``. Every transaction ends with
/// an NFT_MSG_NEWGEN event, so one ``NftEvent/changed`` is reported per
/// commit (the objects' own events are skipped: the loop re-observes
/// anyway). ENOBUFS is an overflow.
enum NftMonitor {
    /// Opens and subscribes; must run inside the target namespace.
    static func open(receiveBuffer: Int) throws(KernelError) -> NetlinkReceiveLoop<NftEvent> {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 12 /* NETLINK_NETFILTER */)
        guard fd >= 0 else { throw KernelError(Errno(rawValue: linx_errno()), "cannot open an nfnetlink monitor socket") }
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size)) }
        }
        var group = Int32(NFNLGRP_NFTABLES.rawValue)
        let joined = setsockopt(fd, 270 /* SOL_NETLINK */, 1 /* NETLINK_ADD_MEMBERSHIP */, &group, socklen_t(MemoryLayout<Int32>.size))
        guard bound == 0, joined == 0 else {
            let code = linx_errno()
            Glibc.close(fd)
            throw KernelError(Errno(rawValue: code), "cannot join NFNLGRP_NFTABLES")
        }
        _ = RtnlSocket.setReceiveBuffer(fd: fd, bytes: receiveBuffer)
        let newGen = UInt16(NFNL_SUBSYS_NFTABLES) << 8 | UInt16(NFT_MSG_NEWGEN.rawValue)
        return NetlinkReceiveLoop(
            fd: fd, name: "nf_tables monitor", overflow: .overflow,
            release: { _ = Glibc.close(fd) },
            decode: { bytes, events in
                var offset = 0
                while offset + 16 <= bytes.count {
                    let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                    if bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self) == newGen {
                        events.append(.changed)
                        return
                    }
                    guard length >= 16 else { return }
                    offset += (length + 3) & ~3
                }
            })
    }
}
