import CNetlink
import LinxReconcile
import SystemPackage

/// Pipelined execution of change requests.
///
/// `ip -batch` and libnl's add calls wait for one ack per object. Here many
/// requests are packed into each `send` (the kernel processes them in order
/// and queues one ack each), up to ``RtnlSocket/window`` requests are
/// outstanding at once, and acks are read in batches with `recvmmsg` and
/// matched to their request by sequence number.
///
/// Without `stopOnError` every request is sent, whatever the kernel answers
/// to the others, and every answer is read. With it the kernel must carry
/// out nothing after the first refusal, and the kernel processes a sent
/// request at once (refusal or not: netlink has no "abort the rest"), so one
/// request is outstanding at a time, as `ip -batch` does; the result is then
/// a prefix of `requests` ending at the first failure. The reconciler never
/// needs that: it sends dependency-free stages pipelined (`RtnlApplier`).
extension RtnlSocket {
    /// Bytes packed into one `send` before it goes out.
    static let sendChunk = 32 * 1024

    func execute(_ requests: [RtnlRequest], stopOnError: Bool, arena: ReceiveArena) -> [Result<Void, KernelError>] {
        guard !requests.isEmpty else { return [] }
        var results = [Result<Void, KernelError>?](repeating: nil, count: requests.count)
        let first = reserveSequences(requests.count)
        var next = 0       // first request not yet built
        var sent = 0       // requests handed to the kernel
        var answered = 0   // requests with a result
        var stopping = false   // a failure was seen with stopOnError
        var broken = false     // a send failed: nothing more can go out
        // Requests allowed to await their ack at once.
        let window = stopOnError ? 1 : self.window
        var buffer: [UInt8] = []
        buffer.reserveCapacity(Self.sendChunk + 4096)

        func fail(_ index: Int, _ error: KernelError) {
            if results[index] == nil { answered += 1 }
            results[index] = .failure(error)
            if stopOnError { stopping = true }
        }

        /// Sends the packed requests; a failed send fails each of them and
        /// ends sending, while acks of earlier sends are still collected.
        func flush(_ count: Int) {
            guard count > 0 else { return }
            defer { buffer.removeAll(keepingCapacity: true) }
            let start = sent
            sent += count
            do {
                try send(buffer)
            } catch {
                broken = true
                for index in start..<sent { fail(index, error) }
            }
        }

        while true {
            // Fill the window.
            var pending = 0
            while !stopping && !broken && next < requests.count && sent + pending - answered < window {
                do {
                    try RtnlRequestBuilder.build(requests[next]).encode(sequence: first &+ UInt32(next), into: &buffer)
                    pending += 1
                } catch {
                    // Nothing was built for it: send what precedes it, then
                    // count it as attempted and failed.
                    flush(pending)
                    pending = 0
                    if broken { break }
                    sent = next + 1
                    fail(next, error)
                }
                next += 1
                if buffer.count >= Self.sendChunk {
                    flush(pending)
                    pending = 0
                }
            }
            flush(pending)
            if answered >= sent && (stopping || broken || next >= requests.count) { break }
            // Read acks.
            do {
                try receive(into: arena) { message throws(KernelError) in
                    guard Int32(message.pointee.nlmsg_type) == NLMSG_ERROR else { return }
                    let index = Int(message.pointee.nlmsg_seq &- first)
                    guard index >= 0, index < sent, results[index] == nil else { return }
                    switch NetlinkAck.decode(message) {
                    case .success: results[index] = .success(()); answered += 1
                    case .failure(let error): fail(index, Self.explained(error, answering: requests[index]))
                    }
                }
            } catch {
                // The socket itself failed (acks lost): outcomes of the
                // unanswered requests are unknown, say so for each.
                for index in 0..<sent where results[index] == nil { fail(index, error) }
                return finish(results)
            }
        }
        return finish(results)
    }

    /// Adds the meaning of an errno that would otherwise mislead: ENOBUFS
    /// answering an IPv4 address add is not a lost message, the link simply
    /// has no IPv4 state (it was just created, or its MTU is below 68).
    static func explained(_ error: KernelError, answering request: RtnlRequest) -> KernelError {
        guard error.errno == .noBufferSpace, error.message == nil,
              case .addAddress(let address) = request, address.family == .ipv4
        else { return error }
        return KernelError(error.errno, "the link has no IPv4 configuration yet (just created, or MTU below 68)")
    }

    private func finish(_ results: [Result<Void, KernelError>?]) -> [Result<Void, KernelError>] {
        var answered: [Result<Void, KernelError>] = []
        answered.reserveCapacity(results.count)
        for case let result? in results { answered.append(result) }
        return answered
    }
}
