import CNetlink
import CNftables
import Glibc
import LinxReconcile
import SystemPackage

/// One namespace's nf_tables connection, owned by that namespace's thread:
/// a libnftables context (whose netlink socket owns the tables made with
/// the owner flag, for as long as this object lives) and a raw nfnetlink
/// socket for the generation id, which libnftables does not expose.
///
/// Why libnftables: rules are nft syntax, and only nft's own parser and
/// printer read and list that syntax exactly as `nft` does; libnftnl would
/// mean compiling rules to expressions ourselves. Its one gap is the
/// compare-and-swap: nft 1.0.6 sends no NFNL_BATCH_GENID in its batch
/// (checked with strace), so ``commit(_:expecting:)`` checks the generation
/// on its own socket immediately before nft sends the batch.
final class NftContext {
    private let ctx: OpaquePointer
    private let generationSocket: Int32

    /// Opens both sockets; must run on the namespace's thread.
    init() throws(KernelError) {
        try Self.checkDescriptorRoom()
        guard let ctx = nft_ctx_new(UInt32(NFT_CTX_DEFAULT)) else {
            throw KernelError(.noMemory, "nft_ctx_new failed")
        }
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 12 /* NETLINK_NETFILTER */)
        guard fd >= 0 else {
            let code = linx_errno()
            nft_ctx_free(ctx)
            throw KernelError(Errno(rawValue: code), "cannot open an nfnetlink socket")
        }
        self.ctx = ctx
        generationSocket = fd
        nft_ctx_output_set_flags(
            ctx, UInt32(NFT_CTX_OUTPUT_STATELESS | NFT_CTX_OUTPUT_HANDLE | NFT_CTX_OUTPUT_NUMERIC_PRIO))
        _ = nft_ctx_buffer_output(ctx)
        _ = nft_ctx_buffer_error(ctx)
    }

    deinit {
        nft_ctx_free(ctx)
        close(generationSocket)
    }

    /// libnftables 1.0.6 waits for its socket with select(), and glibc's
    /// fortified FD_SET aborts the whole process for a descriptor of
    /// FD_SETSIZE (1024) or more. The socket nft_ctx_new opens takes the
    /// lowest free descriptor, so when that is already past the limit (a
    /// node agent holding over a thousand files) refuse with an error the
    /// caller can report, instead of letting the next transaction abort.
    private static func checkDescriptorRoom() throws(KernelError) {
        let probe = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard probe >= 0 else {
            throw KernelError(Errno(rawValue: linx_errno()), "cannot open a descriptor for the nf_tables socket")
        }
        close(probe)
        guard probe < selectLimit else {
            throw KernelError(
                .tooManyOpenFiles,
                "libnftables cannot use descriptor \(probe): its select() aborts the process for one of \(selectLimit) or more; "
                    + "descriptors 0-\(selectLimit - 1) are all open in this process")
        }
    }

    /// FD_SETSIZE.
    private static let selectLimit: Int32 = 1024

    /// The namespace's generation id (NFT_MSG_GETGEN).
    func generation() throws(KernelError) -> UInt32 {
        let (reply, count) = try ask(NFT_MSG_GETGEN.rawValue, family: 0, attributes: [], what: "the nf_tables generation")
        if let code = reply.errorCode { throw KernelError(Errno(rawValue: code), "NFT_MSG_GETGEN refused") }
        // nlmsghdr (16) + nfgenmsg (4), then attributes: NFTA_GEN_ID is a big-endian u32.
        var offset = 20
        while offset + 4 <= count {
            let length = Int(UInt16(reply[offset]) | UInt16(reply[offset + 1]) << 8)
            let attribute = (UInt16(reply[offset + 2]) | UInt16(reply[offset + 3]) << 8) & 0x7FFF
            guard length >= 4 else { break }
            if attribute == UInt16(NFTA_GEN_ID.rawValue), length >= 8 {
                return UInt32(reply[offset + 4]) << 24 | UInt32(reply[offset + 5]) << 16 | UInt32(reply[offset + 6]) << 8 | UInt32(reply[offset + 7])
            }
            offset += (length + 3) & ~3
        }
        throw KernelError(.ioError, "NFT_MSG_GETGEN reply without NFTA_GEN_ID")
    }

    /// Whether `table` exists (NFT_MSG_GETTABLE by name): far cheaper than
    /// letting libnftables fill its cache and list, which is what an
    /// observation would otherwise cost for a table that is not there.
    func tableExists(_ table: NftTableRef) throws(KernelError) -> Bool {
        // NFTA_TABLE_NAME: a NUL-terminated string.
        var name = Array(table.name.utf8) + [0]
        let length = 4 + name.count
        name += [UInt8](repeating: 0, count: (4 - length % 4) % 4)
        let attribute = withUnsafeBytes(of: UInt16(length)) { Array($0) } + withUnsafeBytes(of: UInt16(NFTA_TABLE_NAME.rawValue)) { Array($0) } + name
        let (reply, _) = try ask(NFT_MSG_GETTABLE.rawValue, family: table.family.nfproto, attributes: attribute, what: "table \(table)")
        switch reply.errorCode {
        case nil: return true
        case ENOENT: return false
        case let code?: throw KernelError(Errno(rawValue: code), "NFT_MSG_GETTABLE \(table) refused")
        }
    }

    /// Sends one nf_tables request (NLM_F_REQUEST, no dump) on the
    /// generation socket and reads its one reply.
    private func ask(_ message: UInt32, family: UInt8, attributes: [UInt8], what: String) throws(KernelError) -> (reply: [UInt8], count: Int) {
        var request = [UInt8](repeating: 0, count: 20) + attributes
        let type = UInt16(NFNL_SUBSYS_NFTABLES) << 8 | UInt16(message)
        withUnsafeBytes(of: UInt32(request.count)) { request.replaceSubrange(0..<4, with: $0) }
        withUnsafeBytes(of: type) { request.replaceSubrange(4..<6, with: $0) }
        withUnsafeBytes(of: UInt16(NLM_F_REQUEST)) { request.replaceSubrange(6..<8, with: $0) }
        request[16] = family
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        let sent = request.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(generationSocket, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                }
            }
        }
        guard sent == request.count else { throw KernelError(Errno(rawValue: linx_errno()), "cannot ask for \(what)") }
        // A table's reply carries its name, flags, use count, handle and
        // comment: 512 bytes is enough unless the comment is long; MSG_TRUNC
        // says so, and only whether it exists is read then.
        var reply = [UInt8](repeating: 0, count: 512)
        let count = reply.withUnsafeMutableBytes { recv(generationSocket, $0.baseAddress, $0.count, Int32(MSG_TRUNC)) }
        guard count >= 20 else { throw KernelError(Errno(rawValue: linx_errno()), "no reply about \(what)") }
        return (reply, min(count, reply.count))
    }

    /// Runs `script` as one transaction (`dryRun`: checked by the kernel,
    /// then aborted). On failure: the command of the
    /// line nft names, the errno (inverted from nft's strerror text; EINVAL
    /// for nft's own parse and evaluation errors) and nft's message.
    ///
    /// The script is read from memory: nft reads a file through stdio one
    /// character at a time, and in a multi-threaded process every one of
    /// those reads takes the stream's lock (perf: 4 % of a cold pass of
    /// 10,000 rules). But nft names no line for a buffer (and shows the
    /// wrong line's text: nft 1.0.6), so a refused script is run once more,
    /// from a file and as a dry run, to learn the line and report exactly
    /// what the file would have: a refused transaction changed nothing, so
    /// the dry run meets the same refusal (NftablesDryRunTests: the same
    /// errno and command), unless another writer committed in between; if
    /// the dry run then passes, the refusal is reported without a command.
    func run(_ script: NftScript, dryRun: Bool = false) -> (command: Int?, error: KernelError)? {
        nft_ctx_set_dry_run(ctx, dryRun)
        defer { nft_ctx_set_dry_run(ctx, false) }
        let rc = nft_run_cmd_from_buffer(ctx, script.text)
        _ = nft_ctx_get_output_buffer(ctx)
        let errors = nft_ctx_get_error_buffer(ctx).map { String(cString: $0) } ?? ""
        guard rc != 0 else { return nil }
        return locate(script, refused: Self.parseError(errors, path: nil).error)
    }

    /// The refusal of `script` as a dry run of it from a file (a memfd)
    /// reports it: nft's errors then name `file:LINE:`, and LINE the
    /// failing command. `refused` (no command) when that cannot be learned.
    private func locate(_ script: NftScript, refused: KernelError) -> (command: Int?, error: KernelError) {
        let fd = linx_nft_memfd()
        guard fd >= 0 else { return (nil, refused) }
        defer { close(fd) }
        var text = script.text
        let written = text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }
        guard written else { return (nil, refused) }
        let path = "/proc/self/fd/\(fd)"
        nft_ctx_set_dry_run(ctx, true)
        let rc = nft_run_cmd_from_filename(ctx, path)
        _ = nft_ctx_get_output_buffer(ctx)
        let errors = nft_ctx_get_error_buffer(ctx).map { String(cString: $0) } ?? ""
        guard rc != 0 else { return (nil, refused) }
        let (line, error) = Self.parseError(errors, path: path)
        return (line.flatMap { script.commandOfLine.indices.contains($0) ? script.commandOfLine[$0] : nil }, error)
    }

    /// Runs one command and returns what nft printed (for `list`).
    func output(of command: String) -> Result<String, KernelError> {
        let rc = nft_run_cmd_from_buffer(ctx, command)
        let output = nft_ctx_get_output_buffer(ctx).map { String(cString: $0) } ?? ""
        let errors = nft_ctx_get_error_buffer(ctx).map { String(cString: $0) } ?? ""
        guard rc == 0 else { return .failure(Self.parseError(errors, path: nil).error) }
        return .success(output)
    }

    /// `PATH:LINE:COL-COL: Error: TEXT` (or `Error: TEXT` for a buffer).
    /// When several commands failed, nft lists the last one first: the
    /// refusal named is the one of the earliest line.
    static func parseError(_ text: String, path: String?) -> (line: Int?, error: KernelError) {
        let errors = text.split(separator: "\n").filter { $0.contains("Error: ") }.map { entry -> (line: Int?, text: String) in
            guard let path, entry.hasPrefix(path + ":") else { return (nil, String(entry)) }
            return (Int(entry.dropFirst(path.count + 1).prefix { $0.isNumber }).map { $0 - 1 }, String(entry))
        }
        let earliest = errors.min { ($0.line ?? .max) < ($1.line ?? .max) }
        let first = earliest?.text ?? text
        let line = earliest?.line
        let message = first.split(separator: "Error: ", maxSplits: 1, omittingEmptySubsequences: false).last.map(String.init) ?? first
        return (line, KernelError(errnoCode(fromMessage: message), message))
    }

    /// nft prints the kernel's errno as strerror text ("Could not process
    /// rule: Device or resource busy"); anything else is nft's own refusal.
    static func errnoCode(fromMessage message: String) -> Errno {
        let reason = message.split(separator: ": ").last.map(String.init) ?? message
        let trimmed = reason.split(separator: ";").first.map(String.init) ?? reason
        for code in Int32(1)...Int32(133) {
            if let text = strerror(code), String(cString: text) == trimmed { return Errno(rawValue: code) }
        }
        return .invalidArgument
    }
}

extension [UInt8] {
    /// The errno of an NLMSG_ERROR reply (nil for any other message, and for
    /// an error code 0, which is an ack).
    fileprivate var errorCode: Int32? {
        guard count >= 20, UInt16(self[4]) | UInt16(self[5]) << 8 == UInt16(NLMSG_ERROR) else { return nil }
        let code = withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: Int32.self) }
        return code == 0 ? nil : -code
    }
}
