import CNetlink
import CNftables
import Glibc
import LinxReconcile
import Synchronization
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
///
/// libnftables 1.0.6 is not safe to use from two threads at once, even on
/// separate contexts: it keeps one interface list for the whole process,
/// filled from the calling thread's namespace by the first `iif`/`oif`
/// name a run resolves or prints, and freed at the end of every run and by
/// every `nft_ctx_free`. Each namespace has its own thread here, so every
/// call into the library holds ``library``: unlocked, a run in one
/// namespace resolved names against another's links, or crashed freeing
/// the list another run was reading (a CI run died of SIGSEGV there;
/// NftablesKernelTests runs two namespaces at once).
final class NftContext {
    /// Held across every libnftables call that can touch its process-wide
    /// state: context creation and release, and every run.
    private static let library = Mutex(())

    private let ctx: OpaquePointer
    private let generationSocket: Int32
    /// The generation socket's send buffer as last set for a batch (0: the default).
    private var sendBuffer = 0
    /// The generation socket's receive buffer as last set for a batch's answers (0: the default).
    private var receiveBuffer = 0
    private var batchOptionsSet = false
    /// The last sequence number ``ask(_:family:attributes:what:)`` used.
    private var askSequence: UInt32 = 0
    /// Whether nft's parser reads these names as names, per "family table [set]".
    private var nameVerdicts: [String: Bool] = [:]

    /// Opens both sockets; must run on the namespace's thread.
    init() throws(KernelError) {
        try Self.checkDescriptorRoom()
        guard let ctx = Self.library.withLock({ _ in nft_ctx_new(UInt32(NFT_CTX_DEFAULT)) }) else {
            throw KernelError(.noMemory, "nft_ctx_new failed")
        }
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 12 /* NETLINK_NETFILTER */)
        guard fd >= 0 else {
            let code = linx_errno()
            Self.library.withLock { _ in nft_ctx_free(ctx) }
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
        Self.library.withLock { _ in nft_ctx_free(ctx) }
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
        guard let generation = Self.u32(UInt16(NFTA_GEN_ID.rawValue), in: reply, count: count) else {
            throw KernelError(.ioError, "NFT_MSG_GETGEN reply without NFTA_GEN_ID")
        }
        return generation
    }

    /// Whether `table` exists (NFT_MSG_GETTABLE by name): far cheaper than
    /// letting libnftables fill its cache and list, which is what an
    /// observation would otherwise cost for a table that is not there.
    func tableExists(_ table: NftTableRef) throws(KernelError) -> Bool {
        try tableFlags(table) != nil
    }

    /// The flags of `table` (NFTA_TABLE_FLAGS), nil when it does not exist.
    func tableFlags(_ table: NftTableRef) throws(KernelError) -> UInt32? {
        let (reply, count) = try ask(NFT_MSG_GETTABLE.rawValue, family: table.family.nfproto, attributes: Self.string(1, table.name), what: "table \(table)")
        switch reply.errorCode {
        case nil: return Self.u32(2, in: reply, count: count) ?? 0
        case ENOENT: return nil
        case let code?: throw KernelError(Errno(rawValue: code), "NFT_MSG_GETTABLE \(table) refused")
        }
    }

    /// Set `name` of `table` as the kernel holds it, nil when there is no
    /// such set (or table).
    func set(_ table: NftTableRef, _ name: String) throws(KernelError) -> NftRawBatch.ExistingSet? {
        let (reply, count) = try ask(
            NFT_MSG_GETSET.rawValue, family: table.family.nfproto, attributes: Self.string(1, table.name) + Self.string(2, name),
            what: "set \(name) of table \(table)")
        switch reply.errorCode {
        case nil:
            // NFTA_SET_KEY_TYPE, NFTA_SET_KEY_LEN; NFTA_SET_FLAGS comes before
            // them and only when not 0.
            guard let type = Self.u32(4, in: reply, count: count), let length = Self.u32(5, in: reply, count: count)
            else { throw KernelError(.ioError, "NFT_MSG_GETSET reply without key type or key length") }
            return NftRawBatch.ExistingSet(flags: Self.u32(3, in: reply, count: count) ?? 0, keyType: type, keyLength: length)
        case ENOENT: return nil
        case let code?: throw KernelError(Errno(rawValue: code), "NFT_MSG_GETSET \(name) of table \(table) refused")
        }
    }

    /// What a raw batch needs to know of the kernel and of nft, asked on
    /// this context (so on the namespace's thread).
    var rawBatchLookup: NftRawBatch.Lookup {
        NftRawBatch.Lookup(
            tableFlags: { table throws(KernelError) in try self.tableFlags(table) },
            set: { table, name throws(KernelError) in try self.set(table, name) },
            nftReadsNames: { table, set in self.nftReadsNames(table, set: set) })
    }

    /// Whether nft's parser reads `table`'s name, and `set` when given, as
    /// names (a keyword such as `counter` is a syntax error to it): asked
    /// of libnftables once per name, by a dry run of the declarations as
    /// ``NftScript`` writes them (the table's too, so a table that is not
    /// there yet is no refusal, and a refused script's second run from a
    /// file is not paid). Any refusal other than a syntax error (another
    /// socket's owner-flagged table, say) still means nft read the names.
    func nftReadsNames(_ table: NftTableRef, set: String?) -> Bool {
        let key = "\(table.family.rawValue) \(table.name)" + (set.map { " \($0)" } ?? "")
        if let known = nameVerdicts[key] { return known }
        let declarations: [NftCommand] = [.addTable(table, flags: [], comment: nil)] + (set.map { [.addSet(table, NftSet($0, type: "ipv4_addr"))] } ?? [])
        let failure = run(NftScript(declarations), dryRun: true)
        let verdict = !(failure?.error.message?.contains("syntax error") ?? false)
        nameVerdicts[key] = verdict
        return verdict
    }

    /// A NUL-terminated string attribute, padded.
    private static func string(_ type: UInt16, _ text: String) -> [UInt8] {
        var attributes = NftRawBatch.Attributes()
        attributes.string(type, text)
        return attributes.bytes
    }

    /// The big-endian u32 attribute `type` of an nf_tables reply (after
    /// nlmsghdr and nfgenmsg), nil when absent.
    private static func u32(_ type: UInt16, in reply: [UInt8], count: Int) -> UInt32? {
        var offset = 20
        while offset + 4 <= count {
            let length = Int(UInt16(reply[offset]) | UInt16(reply[offset + 1]) << 8)
            let attribute = (UInt16(reply[offset + 2]) | UInt16(reply[offset + 3]) << 8) & 0x7FFF
            guard length >= 4 else { break }
            if attribute == type, length >= 8, offset + 8 <= count {
                return UInt32(reply[offset + 4]) << 24 | UInt32(reply[offset + 5]) << 16 | UInt32(reply[offset + 6]) << 8 | UInt32(reply[offset + 7])
            }
            offset += (length + 3) & ~3
        }
        return nil
    }

    /// Sends `batch` on the generation socket and reads what the kernel
    /// answered: nil when it committed it, else the failing command (the
    /// earliest message refused; nil for the batch itself, such as ERESTART
    /// for a stale generation) and the errno, with the kernel's own text
    /// when it gave one. The kernel handles the whole batch inside the
    /// send, so its errors are already queued when the send returns.
    func send(_ batch: NftRawBatch) throws(KernelError) -> (command: Int?, error: KernelError)? {
        try prepareForBatches(size: batch.bytes.count, messages: batch.commandOfSequence.count)
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        let sent = batch.bytes.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(generationSocket, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                }
            }
        }
        guard sent == batch.bytes.count else { throw KernelError(Errno(rawValue: linx_errno()), "cannot send the nf_tables batch") }
        var refusals: [(sequence: UInt32, code: Int32, text: String?)] = []
        var overflowed = false
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        // Read everything queued, even past an overflow, so no answer is
        // left for the next request on this socket to take for its own.
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(generationSocket, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count < 0 {
                let code = linx_errno()
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { break }
                if code == ENOBUFS {
                    overflowed = true
                    continue
                }
                throw KernelError(Errno(rawValue: code), "cannot read the kernel's answer to the nf_tables batch")
            }
            var offset = 0
            while offset + 20 <= count {
                let length = buffer.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
                guard length >= 16, offset + length <= count else { break }
                let type = UInt16(buffer[offset + 4]) | UInt16(buffer[offset + 5]) << 8
                let flags = UInt16(buffer[offset + 6]) | UInt16(buffer[offset + 7]) << 8
                if type == UInt16(NLMSG_ERROR), length >= 36 {
                    let code = -buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 16, as: Int32.self) }
                    let sequence = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 28, as: UInt32.self) }
                    if code != 0 {
                        refusals.append((sequence, code, Self.extendedAckText(buffer, message: offset, length: length, flags: flags)))
                    }
                }
                offset += (length + 3) & ~3
            }
        }
        guard let first = refusals.min(by: { $0.sequence < $1.sequence }) else {
            // Only refusals are answered (no NLM_F_ACK), and any refusal aborts
            // the whole batch: answers lost to an overflow mean it was refused.
            return overflowed ? (nil, KernelError(.noBufferSpace, "the kernel's refusals of the nf_tables batch overflowed the socket")) : nil
        }
        let command = Int(first.sequence) < batch.commandOfSequence.count ? batch.commandOfSequence[Int(first.sequence)] : nil
        let reason = String(cString: strerror(first.code))
        // The words nft prints for a kernel refusal, and the kernel's own text.
        let message = "Could not process rule: \(reason)" + (first.text.map { " (\($0))" } ?? "")
        return (command, KernelError(Errno(rawValue: first.code), message))
    }

    /// NLMSGERR_ATTR_MSG of an error whose echoed request was capped
    /// (NETLINK_CAP_ACK) and carries TLVs (NLM_F_ACK_TLVS).
    private static func extendedAckText(_ buffer: [UInt8], message offset: Int, length: Int, flags: UInt16) -> String? {
        guard flags & 0x200 != 0 else { return nil }  // NLM_F_ACK_TLVS
        var at = offset + 36  // nlmsghdr + error + the request's nlmsghdr
        while at + 4 <= offset + length {
            let size = Int(UInt16(buffer[at]) | UInt16(buffer[at + 1]) << 8)
            let type = UInt16(buffer[at + 2]) | UInt16(buffer[at + 3]) << 8
            guard size >= 4, at + size <= offset + length else { break }
            if type == 1 {  // NLMSGERR_ATTR_MSG
                let text = buffer[(at + 4)..<(at + size)].prefix { $0 != 0 }
                return String(decoding: text, as: UTF8.self)
            }
            at += (size + 3) & ~3
        }
        return nil
    }

    /// The generation socket's send buffer holds `size` bytes (a batch is
    /// one datagram), and errors come back capped with the kernel's text.
    private func prepareForBatches(size: Int, messages: Int) throws(KernelError) {
        if !batchOptionsSet {
            var one: Int32 = 1
            // NETLINK_CAP_ACK (10), NETLINK_EXT_ACK (11); SOL_NETLINK is 270.
            _ = setsockopt(generationSocket, 270, 10, &one, socklen_t(MemoryLayout<Int32>.size))
            _ = setsockopt(generationSocket, 270, 11, &one, socklen_t(MemoryLayout<Int32>.size))
            batchOptionsSet = true
        }
        // One capped refusal per message at most (each a small skb, about
        // 1 KiB of the receive buffer's accounting): room for all of them,
        // so the earliest is never the one dropped.
        let answers = messages * 1024 + 64 * 1024
        if answers > receiveBuffer, setBuffer(SO_RCVBUFFORCE, else: SO_RCVBUF, to: answers) {
            receiveBuffer = answers
        }
        guard size + 4096 > sendBuffer else { return }
        let wanted = Int(Int32(clamping: size + 64 * 1024))
        guard setBuffer(SO_SNDBUFFORCE, else: SO_SNDBUF, to: wanted) else {
            throw KernelError(Errno(rawValue: linx_errno()), "cannot make room for a batch of \(size) bytes")
        }
        sendBuffer = wanted
    }

    /// Sets one of the generation socket's buffers to `bytes`: past the
    /// system's maximum with `force` (root), else with `plain` (capped by
    /// it). False, with errno set, when both were refused.
    private func setBuffer(_ force: Int32, else plain: Int32, to bytes: Int) -> Bool {
        var wanted = Int32(clamping: bytes)
        let size = socklen_t(MemoryLayout<Int32>.size)
        return setsockopt(generationSocket, SOL_SOCKET, force, &wanted, size) == 0
            || setsockopt(generationSocket, SOL_SOCKET, plain, &wanted, size) == 0
    }

    /// Sends one nf_tables request (NLM_F_REQUEST, no dump) on the
    /// generation socket and reads its one reply.
    private func ask(_ message: UInt32, family: UInt8, attributes: [UInt8], what: String) throws(KernelError) -> (reply: [UInt8], count: Int) {
        var request = [UInt8](repeating: 0, count: 20) + attributes
        let type = UInt16(NFNL_SUBSYS_NFTABLES) << 8 | UInt16(message)
        withUnsafeBytes(of: UInt32(request.count)) { request.replaceSubrange(0..<4, with: $0) }
        withUnsafeBytes(of: type) { request.replaceSubrange(4..<6, with: $0) }
        withUnsafeBytes(of: UInt16(NLM_F_REQUEST)) { request.replaceSubrange(6..<8, with: $0) }
        // A sequence number of its own, above any a batch uses (those count
        // from 0), so a reply is known for ours.
        askSequence = askSequence &+ 1
        let sequence = 0x8000_0000 | askSequence
        withUnsafeBytes(of: sequence) { request.replaceSubrange(8..<12, with: $0) }
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
        // A set's or table's reply carries names of up to 256 bytes each,
        // flags, handles and user data of up to 256: 16 KiB holds any.
        var reply = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = reply.withUnsafeMutableBytes { recv(generationSocket, $0.baseAddress, $0.count, Int32(MSG_TRUNC)) }
            if count < 0, linx_errno() == EINTR { continue }
            guard count >= 20 else { throw KernelError(Errno(rawValue: linx_errno()), "no reply about \(what)") }
            // Anything else queued (an answer nobody read) is not ours.
            guard reply.withUnsafeBytes({ $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self) }) == sequence else { continue }
            return (reply, min(count, reply.count))
        }
    }

    /// Runs `script` as one transaction (`dryRun`: checked by the kernel,
    /// then aborted). On failure: the command of the
    /// line nft names, the errno (inverted from nft's strerror text; EINVAL
    /// for nft's own parse and evaluation errors) and nft's message. A
    /// script with a ``NftScript/refusal`` is not run: EINVAL for its command.
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
        if let refusal = script.refusal { return (refusal.command, KernelError(.invalidArgument, refusal.reason)) }
        nft_ctx_set_dry_run(ctx, dryRun)
        defer { nft_ctx_set_dry_run(ctx, false) }
        let (rc, _, errors) = perform(keepingOutput: false) { nft_run_cmd_from_buffer($0, script.text) }
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
        let (rc, _, errors) = perform(keepingOutput: false) { nft_run_cmd_from_filename($0, path) }
        guard rc != 0 else { return (nil, refused) }
        let (line, error) = Self.parseError(errors, path: path)
        return (line.flatMap { script.commandOfLine.indices.contains($0) ? script.commandOfLine[$0] : nil }, error)
    }

    /// Runs one command and returns what nft printed (for `list`).
    func output(of command: String) -> Result<String, KernelError> {
        let (rc, output, errors) = perform(keepingOutput: true) { nft_run_cmd_from_buffer($0, command) }
        guard rc == 0 else { return .failure(Self.parseError(errors, path: nil).error) }
        return .success(output)
    }

    /// One libnftables run under ``library``: its return code, what it
    /// printed (read either way, so the next run starts with an empty
    /// buffer; "" unless `keepingOutput`) and its error text.
    private func perform(keepingOutput: Bool, _ run: (OpaquePointer) -> Int32) -> (rc: Int32, output: String, errors: String) {
        Self.library.withLock { _ in
            let rc = run(ctx)
            let output = nft_ctx_get_output_buffer(ctx)
            let errors = nft_ctx_get_error_buffer(ctx).map { String(cString: $0) } ?? ""
            return (rc, keepingOutput ? output.map { String(cString: $0) } ?? "" : "", errors)
        }
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
