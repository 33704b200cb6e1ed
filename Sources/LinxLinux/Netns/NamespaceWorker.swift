import CNetlink
import Glibc
import LinxReconcile
import SystemPackage
import Synchronization

/// A dedicated OS thread that lives inside one network namespace and runs
/// jobs there, one at a time.
///
/// `setns` is per thread, and /proc/sys/net resolves against the netns of the
/// thread that opens the file, so everything namespace-bound (rtnetlink
/// sockets, sysctl files) happens on this thread. Swift concurrency threads
/// never change namespace: callers hop here with a continuation and back.
/// The thread also owns the namespace's request socket, so the (not
/// thread-safe) libnl socket is never touched by two threads.
final class NamespaceWorker: Sendable {
    /// What a job sees: the thread's own state. Only ever touched on the thread.
    final class Context {
        /// Why the thread could not enter its namespace, if it could not.
        var entryError: KernelError?
        /// The request socket, opened lazily inside the namespace.
        var rtnl: RtnlSocket?
        /// The nf_tables connection, opened lazily inside the namespace.
        var nft: NftContext?
        /// Set while the thread must not end when idle: its nf_tables socket
        /// owns a table (NFT_TABLE_F_OWNER), which the kernel would remove
        /// with the socket.
        var pinned = false
        let requestReceiveBuffer: Int
        /// Receive buffers, reused across calls: dumps take one big datagram
        /// at a time, acks come many small ones per recvmmsg.
        lazy var dumpArena = ReceiveArena(slots: 1, slotSize: 64 * 1024)
        lazy var ackArena = ReceiveArena(slots: 64, slotSize: 2048)

        init(requestReceiveBuffer: Int) { self.requestReceiveBuffer = requestReceiveBuffer }

        /// The namespace's request socket, opened on first use.
        func socket() throws(KernelError) -> RtnlSocket {
            if let entryError { throw entryError }
            if let rtnl { return rtnl }
            let opened = try RtnlSocket(receiveBuffer: requestReceiveBuffer)
            rtnl = opened
            return opened
        }
    }

    typealias Job = @Sendable (Context) -> Void

    private struct Queue: ~Copyable {
        var jobs: [Job] = []
        var stopped = false
    }

    private let queue = Mutex(Queue())
    private nonisolated(unsafe) let signal: UnsafeMutablePointer<sem_t>
    /// (st_dev, st_ino) of the namespace file the thread entered, to notice a
    /// path that now names a different namespace.
    let identity: NamespaceIdentity?

    /// What `run` throws when the thread had already ended (stopped, or idle
    /// for too long): the caller gets a fresh worker and tries again.
    static let stoppedError = KernelError(.badFileDescriptor, "namespace thread stopped")

    /// Starts the thread. `namespaceFD` (consumed) is entered first; nil stays
    /// in the process's own namespace. After `idleTimeout` without a job the
    /// thread ends by itself, so it does not pin a namespace nobody uses.
    init(
        namespaceFD: Int32?, identity: NamespaceIdentity?, requestReceiveBuffer: Int, idleTimeout: Duration?
    ) throws(KernelError) {
        self.identity = identity
        signal = .allocate(capacity: 1)
        sem_init(signal, 0, 0)
        let idleMilliseconds = idleTimeout.map { Int($0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) } ?? -1
        let start = ThreadStart(
            worker: self, namespaceFD: namespaceFD, requestReceiveBuffer: requestReceiveBuffer, idleMilliseconds: idleMilliseconds)
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let start = Unmanaged<ThreadStart>.fromOpaque(raw!).takeRetainedValue()
            start.worker.loop(start)
            return nil
        }, Unmanaged.passRetained(start).toOpaque())
        guard rc == 0 else {
            if let namespaceFD { close(namespaceFD) }
            sem_destroy(signal)
            signal.deallocate()
            throw KernelError(Errno(rawValue: rc), "cannot start the namespace thread")
        }
        pthread_detach(thread)
    }

    /// Runs `body` on the namespace thread and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable (Context) throws(KernelError) -> T) async throws(KernelError) -> T {
        let result: Result<T, KernelError> = await withCheckedContinuation { continuation in
            let accepted = submit { context in
                do throws(KernelError) {
                    continuation.resume(returning: .success(try body(context)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            if !accepted { continuation.resume(returning: .failure(Self.stoppedError)) }
        }
        return try result.get()
    }

    /// Queues a job; false when the worker was stopped.
    private func submit(_ job: @escaping Job) -> Bool {
        let accepted = queue.withLock { queue in
            guard !queue.stopped else { return false }
            queue.jobs.append(job)
            return true
        }
        if accepted { sem_post(signal) }
        return accepted
    }

    /// True once the thread has ended or is ending: take a new worker.
    var isStopped: Bool { queue.withLock { $0.stopped } }

    /// Lets queued jobs finish, then ends the thread (which closes its socket
    /// and leaves the namespace, so it no longer pins it).
    func stop() {
        let first = queue.withLock { queue in
            defer { queue.stopped = true }
            return !queue.stopped
        }
        if first { sem_post(signal) }
    }

    private func loop(_ start: ThreadStart) {
        let context = Context(requestReceiveBuffer: start.requestReceiveBuffer)
        if let namespaceFD = start.namespaceFD {
            if linx_setns_net(namespaceFD) != 0 {
                context.entryError = KernelError(Errno(rawValue: linx_errno()), "cannot enter the network namespace")
            }
            close(namespaceFD)
        }
        while true {
            if linx_sem_wait_ms(signal, start.idleMilliseconds) != 0 {
                guard linx_errno() == ETIMEDOUT else { continue }
                // Idle: end unless a job slipped in (its post wakes the next wait).
                if context.pinned { continue }
                let idle = queue.withLock { queue in
                    if queue.jobs.isEmpty { queue.stopped = true }
                    return queue.jobs.isEmpty
                }
                if idle { break }
                continue
            }
            let next: Job?? = queue.withLock { queue in
                if !queue.jobs.isEmpty { return .some(queue.jobs.removeFirst()) }
                return queue.stopped ? .none : .some(nil)
            }
            switch next {
            case .none: break
            case .some(nil): continue
            case .some(let job?):
                job(context)
                continue
            }
            break
        }
        context.rtnl = nil
        context.nft = nil
    }

    // The semaphore lives as long as the object: a late stop() may still post.
    deinit {
        sem_destroy(signal)
        signal.deallocate()
    }
}

private final class ThreadStart: @unchecked Sendable {
    let worker: NamespaceWorker
    let namespaceFD: Int32?
    let requestReceiveBuffer: Int
    let idleMilliseconds: Int

    init(worker: NamespaceWorker, namespaceFD: Int32?, requestReceiveBuffer: Int, idleMilliseconds: Int) {
        self.worker = worker
        self.namespaceFD = namespaceFD
        self.requestReceiveBuffer = requestReceiveBuffer
        self.idleMilliseconds = idleMilliseconds
    }
}
