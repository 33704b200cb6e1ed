import CNetlink
import CNftables
import Glibc
import LinxReconcile
import SystemPackage
import Synchronization

/// An `nft monitor`: a raw nfnetlink socket subscribed to NFNLGRP_NFTABLES,
/// read on demand. Every transaction ends with an NFT_MSG_NEWGEN event, so
/// one ``NftEvent/changed`` is reported per commit (the objects' own events
/// are skipped: the loop re-observes anyway). ENOBUFS is an overflow.
final class NftMonitor: Sendable {
    private struct State: ~Copyable {
        /// -1 once closed.
        var fd: Int32
    }

    private let state: Mutex<State>
    private let fd: Int32
    private nonisolated(unsafe) let buffer = UnsafeMutableRawPointer.allocate(byteCount: 64 * 1024, alignment: 8)

    /// Opens and subscribes; must run inside the target namespace.
    init(receiveBuffer: Int) throws(KernelError) {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 12)
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
        var bytes = Int32(receiveBuffer)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, socklen_t(MemoryLayout<Int32>.size))
        self.fd = fd
        state = Mutex(State(fd: fd))
    }

    deinit {
        close()
        buffer.deallocate()
    }

    /// Closes the socket; later reads return nil.
    func close() {
        state.withLock { state in
            if state.fd >= 0 { Glibc.close(state.fd) }
            state.fd = -1
        }
    }

    /// The next event, nil once closed or cancelled.
    func next() async throws -> NftEvent? {
        while true {
            enum Step { case event(NftEvent), closed, wait, again }
            let step: Step = try state.withLock { state throws(KernelError) -> Step in
                guard state.fd >= 0 else { return .closed }
                let count = recv(state.fd, buffer, 64 * 1024, Int32(MSG_DONTWAIT))
                if count < 0 {
                    switch linx_errno() {
                    case EAGAIN, EWOULDBLOCK: return .wait
                    case EINTR: return .again
                    case ENOBUFS: return .event(.overflow)
                    case let code: throw KernelError(Errno(rawValue: code), "nf_tables monitor receive failed")
                    }
                }
                var offset = 0
                var changed = false
                let newGen = UInt16(NFNL_SUBSYS_NFTABLES) << 8 | UInt16(NFT_MSG_NEWGEN.rawValue)
                while offset + 16 <= count {
                    let length = Int(buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                    let type = buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
                    if type == newGen { changed = true }
                    guard length >= 16 else { break }
                    offset += (length + 3) & ~3
                }
                return changed ? .event(.changed) : .again
            }
            switch step {
            case .event(let event): return event
            case .closed: return nil
            case .again: continue
            case .wait:
                let readable = Task.isCancelled ? false : await ReadinessPoller.shared.waitReadable(fd)
                if !readable {
                    close()
                    return nil
                }
            }
        }
    }
}
