import CNetlink
import Glibc
import LinxReconcile
import SystemPackage
import Synchronization

/// The real kernel: rtnetlink through libnl-route, sysctl through /proc/sys,
/// cgroup limits through cgroupfs, in any network namespace.
///
/// Each namespace used gets one dedicated thread that entered it with
/// `setns` and owns that namespace's rtnetlink socket; calls hop to it and
/// back, so no Swift concurrency thread ever changes namespace and the libnl
/// socket is only ever used by one thread. A thread ends after
/// ``Configuration/idleTimeout`` without work, or when the kernel object is
/// released, so it does not keep a deleted namespace alive.
///
/// Scopes: a pid is resolved to its namespace once, on first use, and pinned
/// with a pidfd, so a reused pid is never taken for the process first named;
/// once that process exits the scope answers ENOENT. `/proc/PID/ns/net` as a
/// path is that same pid scope (see ``/LinxReconcile/NetnsScope``). Any other
/// path is re-checked on every call, so a namespace deleted and re-created
/// under the same name is noticed.
public final class LinuxKernel: RtnlBackend, SysctlBackend, CgroupBackend {
    /// Tunables.
    public struct Configuration: Sendable, Hashable {
        /// Receive buffer of each request socket. It bounds how many
        /// pipelined requests may await their ack at once.
        public var requestReceiveBuffer: Int
        /// Receive buffer of each monitor socket: how many events the kernel
        /// holds for a slow consumer before it reports an overflow.
        /// iproute2 uses 1 MiB; libnl's default is 32 KiB.
        public var monitorReceiveBuffer: Int

        /// The defaults: 4 MiB request buffers (up to 2048 requests in flight),
        /// 1 MiB monitor buffers, threads ending after 30 s idle.
        /// How long a namespace's thread waits for work before it ends (and
        /// stops pinning the namespace); nil keeps it until the kernel object
        /// goes away. The next call simply starts a new one.
        public var idleTimeout: Duration?

        public init(
            requestReceiveBuffer: Int = 4 << 20, monitorReceiveBuffer: Int = 1 << 20,
            idleTimeout: Duration? = .seconds(30)
        ) {
            self.requestReceiveBuffer = requestReceiveBuffer
            self.monitorReceiveBuffer = monitorReceiveBuffer
            self.idleTimeout = idleTimeout
        }
    }

    /// The tunables this kernel was made with.
    public let configuration: Configuration
    private let registry = Mutex(Registry())

    /// The namespace threads, and per pid scope the namespace it was
    /// resolved to (once) plus a pidfd: it pins the process's identity, so a
    /// pid reused by another process is never mistaken for the one first
    /// named, and its exit is noticed.
    private struct Registry: ~Copyable {
        var workers: [NetnsScope: NamespaceWorker] = [:]
        var pids: [Int32: PidScope] = [:]
    }

    private struct PidScope {
        var pidfd: Int32
        var namespaceFD: Int32
        var identity: NamespaceIdentity

        func close() {
            Glibc.close(pidfd)
            Glibc.close(namespaceFD)
        }
    }

    /// A backend; threads and sockets are made on first use of each namespace.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    deinit {
        registry.withLock { registry in
            for worker in registry.workers.values { worker.stop() }
            for pid in registry.pids.values { pid.close() }
            registry = Registry()
        }
    }

    // MARK: rtnetlink

    /// Dumps the links (one RTM_GETLINK dump on the namespace's socket).
    public func links(in scope: NetnsScope) async throws(KernelError) -> [Link] {
        try await perform(in: scope) { context throws(KernelError) in
            try context.socket().dump(RtnlDumpRequest.links, arena: context.dumpArena, parse: RtnlParser.link)
        }
    }

    /// Dumps the addresses of both families, IFA_PROTO included.
    public func addresses(in scope: NetnsScope) async throws(KernelError) -> [InterfaceAddress] {
        try await perform(in: scope) { context throws(KernelError) in
            try context.socket().dump(RtnlDumpRequest.addresses, arena: context.dumpArena, parse: RtnlParser.address)
        }
    }

    /// Dumps the routes matching `filter`; the kernel filters them (strict
    /// checking). A table that does not exist yields no routes, not ENOENT.
    public func routes(in scope: NetnsScope, matching filter: RouteFilter) async throws(KernelError) -> [Route] {
        try await perform(in: scope) { context throws(KernelError) in
            do throws(KernelError) {
                var routes = try context.socket().dump(
                    { () throws(KernelError) in try RtnlDumpRequest.routes(filter) },
                    arena: context.dumpArena, parse: RtnlParser.route)
                // Strict checking filters; this also covers kernels that ignore
                // a filter. In place: a copy of 65,536 routes is 8 MB.
                routes.removeAll { !filter.matches($0) }
                return routes
            } catch where error.errno == .noSuchFileOrDirectory && filter.table != nil && filter.family != nil {
                // A table that does not exist (yet) holds no routes.
                return []
            }
        }
    }

    /// The routes exactly as the kernel's (strict-checked, filtered) dump
    /// returned them, without the client-side re-check: lets tests prove the
    /// kernel did the filtering.
    func kernelFilteredRoutes(in scope: NetnsScope, matching filter: RouteFilter) async throws(KernelError) -> [Route] {
        try await perform(in: scope) { context throws(KernelError) in
            try context.socket().dump(
                { () throws(KernelError) in try RtnlDumpRequest.routes(filter) },
                arena: context.dumpArena, parse: RtnlParser.route)
        }
    }

    /// Sends `requests` pipelined (many per send, acks matched by sequence
    /// number): one result per request sent, in order. With `stopOnError`
    /// one request at a time, so nothing runs after the first failure.
    public func execute(_ requests: [RtnlRequest], in scope: NetnsScope, stopOnError: Bool) async -> [Result<Void, KernelError>] {
        guard !requests.isEmpty else { return [] }
        do {
            return try await perform(in: scope) { context throws(KernelError) in
                try context.socket().execute(requests, stopOnError: stopOnError, arena: context.ackArena)
            }
        } catch {
            // Nothing could be sent (no namespace, no socket): the first
            // request carries the reason; the rest were never attempted.
            return stopOnError ? [.failure(error)] : Array(repeating: .failure(error), count: requests.count)
        }
    }

    /// Opens a monitor in `scope`. The subscription is made before this
    /// returns; the socket closes when the stream is cancelled or dropped.
    public func events(in scope: NetnsScope) async throws(KernelError) -> AsyncThrowingStream<RtnlEvent, any Error> {
        let buffer = configuration.monitorReceiveBuffer
        // Subscribed before returning: a dump made after this call misses nothing.
        let monitor = try await perform(in: scope) { context throws(KernelError) in
            if let entryError = context.entryError { throw entryError }
            return try RtnlMonitor.open(receiveBuffer: buffer)
        }
        return AsyncThrowingStream(unfolding: { try await monitor.next() })
    }

    /// Follows what `scope` names, event-driven: for a path, inotify on its
    /// directory plus the mount table (a name is a bind mount), re-reading
    /// the nsfs inode on each wake-up; for a pid, its pidfd, which becomes
    /// readable when the process exits (then nil, and the stream finishes:
    /// a reused pid is another process, never followed); the current
    /// namespace never changes (one value, then finished).
    public func namespaceIdentities(of scope: NetnsScope) async -> AsyncStream<NamespaceIdentity?> {
        switch scope.resolvingProcessPath {
        case .current:
            let identity = NamespaceIdentity.named(by: "/proc/self/ns/net")
            return AsyncStream { continuation in
                continuation.yield(identity)
                continuation.finish()
            }
        case .pid(let pid):
            let pidfd = registry.withLock { registry -> Int32? in
                guard let resolved = try? Self.resolve(pid: pid, in: &registry),
                    linx_pidfd_exited(resolved.pidfd) == 0
                else { return nil }
                return dup(resolved.pidfd)
            }
            let identity = registry.withLock { $0.pids[pid]?.identity }
            return AsyncStream { continuation in
                guard let pidfd, let identity else {
                    continuation.yield(nil)
                    continuation.finish()
                    return
                }
                continuation.yield(identity)
                let waiter = Task {
                    defer { close(pidfd) }
                    // Readable once the process has exited.
                    guard await ReadinessPoller.shared.waitReadable(pidfd) else { return }
                    continuation.yield(nil)
                    continuation.finish()
                }
                continuation.onTermination = { _ in waiter.cancel() }
            }
        case .path(let path):
            // Watch first, then read: a change in between still wakes us.
            let watch = try? NamespaceNameWatch(path: path)
            return AsyncStream { continuation in
                let follower = Task {
                    var last: NamespaceIdentity?? = .none
                    while !Task.isCancelled {
                        let identity = NamespaceIdentity.named(by: path)
                        if last != .some(identity) {
                            continuation.yield(identity)
                            last = identity
                        }
                        guard let watch, await watch.changed() else { break }
                    }
                    continuation.finish()
                }
                continuation.onTermination = { _ in follower.cancel() }
            }
        }
    }

    // MARK: sysctl

    /// Reads /proc/sys/KEY as seen from inside `scope`.
    public func read(_ key: SysctlKey, in scope: NetnsScope) async throws(KernelError) -> String {
        try await perform(in: scope) { context throws(KernelError) in
            if let entryError = context.entryError { throw entryError }
            return try ProcSysctl.read(key)
        }
    }

    /// Writes /proc/sys/KEY from inside `scope` (keys outside `net.` are host-wide).
    public func write(_ key: SysctlKey, value: String, in scope: NetnsScope) async throws(KernelError) {
        try await perform(in: scope) { context throws(KernelError) in
            if let entryError = context.entryError { throw entryError }
            try ProcSysctl.write(key, value)
        }
    }

    /// Lists the keys under `prefix` as seen from inside `scope`.
    public func keys(under prefix: SysctlKey, in scope: NetnsScope) async throws(KernelError) -> [SysctlKey] {
        try await perform(in: scope) { context throws(KernelError) in
            if let entryError = context.entryError { throw entryError }
            return try ProcSysctl.keys(under: prefix)
        }
    }

    // MARK: cgroups (no namespace involved: plain file I/O)

    /// Says whether `cgroup` is on cgroup2 or a v1 hierarchy (statfs magic).
    public func hierarchy(of cgroup: String) async throws(KernelError) -> CgroupHierarchy {
        try CgroupFS.hierarchy(of: cgroup)
    }

    /// Reads an interface file of `cgroup`.
    public func read(_ file: String, in cgroup: String) async throws(KernelError) -> String {
        try CgroupFS.read(file, in: cgroup)
    }

    /// Writes an interface file of `cgroup`.
    public func write(_ file: String, value: String, in cgroup: String) async throws(KernelError) {
        try CgroupFS.write(file, value: value, in: cgroup)
    }

    /// Lists the interface files of `cgroup`, sorted.
    public func files(in cgroup: String) async throws(KernelError) -> [String] {
        try CgroupFS.files(in: cgroup)
    }

    // MARK: namespace threads

    /// Runs `body` on the scope's namespace thread, starting one if there is
    /// none (or the last one ended while idle).
    func perform<T: Sendable>(
        in scope: NetnsScope, _ body: @escaping @Sendable (NamespaceWorker.Context) throws(KernelError) -> T
    ) async throws(KernelError) -> T {
        var attempt = 0
        while true {
            do {
                return try await worker(for: scope).run(body)
            } catch where error == NamespaceWorker.stoppedError && attempt < 3 {
                attempt += 1
            }
        }
    }

    private func worker(for scope: NetnsScope) throws(KernelError) -> NamespaceWorker {
        let receiveBuffer = configuration.requestReceiveBuffer
        let idle = configuration.idleTimeout
        return try registry.withLock { registry throws(KernelError) -> NamespaceWorker in
            func start(_ fd: Int32?, _ identity: NamespaceIdentity?) throws(KernelError) -> NamespaceWorker {
                registry.workers.removeValue(forKey: scope)?.stop()
                let worker = try NamespaceWorker(
                    namespaceFD: fd, identity: identity, requestReceiveBuffer: receiveBuffer, idleTimeout: idle)
                registry.workers[scope] = worker
                return worker
            }
            let cached = registry.workers[scope].flatMap { $0.isStopped ? nil : $0 }
            switch scope.resolvingProcessPath {
            case .current:
                if let cached { return cached }
                return try start(nil, nil)
            case .pid(let pid):
                let resolved = try Self.resolve(pid: pid, in: &registry)
                if linx_pidfd_exited(resolved.pidfd) != 0 {
                    registry.workers.removeValue(forKey: scope)?.stop()
                    registry.pids.removeValue(forKey: pid)?.close()
                    throw KernelError(.noSuchFileOrDirectory, "process \(pid) has exited; its network namespace is no longer addressable")
                }
                if let cached { return cached }
                return try start(dup(resolved.namespaceFD), resolved.identity)
            case .path(let path):
                var info = stat()
                guard stat(path, &info) == 0 else {
                    registry.workers.removeValue(forKey: scope)?.stop()
                    throw KernelError(Errno(rawValue: linx_errno()), "no network namespace at \(path)")
                }
                if let cached, cached.identity == NamespaceIdentity(info) { return cached }
                let (fd, identity) = try Self.openNamespace(path, describing: scope)
                return try start(fd, identity)
            }
        }
    }

    /// The namespace of process `pid`, resolved once and pinned with a pidfd.
    private static func resolve(pid: Int32, in registry: inout Registry) throws(KernelError) -> PidScope {
        if let known = registry.pids[pid] { return known }
        let pidfd = linx_pidfd_open(pid)
        guard pidfd >= 0 else {
            throw KernelError(.noSuchFileOrDirectory, "no process \(pid), so no network namespace to use")
        }
        let namespace: (Int32, NamespaceIdentity)
        do throws(KernelError) {
            namespace = try openNamespace("/proc/\(pid)/ns/net", describing: .pid(pid))
        } catch {
            close(pidfd)
            throw error
        }
        // Opened while the pidfd's process ran: the file is its namespace.
        let resolved = PidScope(pidfd: pidfd, namespaceFD: namespace.0, identity: namespace.1)
        registry.pids[pid] = resolved
        return resolved
    }

    private static func openNamespace(_ path: String, describing scope: NetnsScope) throws(KernelError) -> (Int32, NamespaceIdentity) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw KernelError(Errno(rawValue: linx_errno()), "cannot open the \(scope)") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = KernelError(Errno(rawValue: linx_errno()), "cannot stat the \(scope)")
            close(fd)
            throw error
        }
        return (fd, NamespaceIdentity(info))
    }
}

extension NetnsScope {
    /// `.pid(PID)` for `/proc/PID/ns/net`: a process's namespace is pinned
    /// with its pidfd however it is spelled.
    fileprivate var resolvingProcessPath: NetnsScope {
        if case .path = self, let process { return .pid(process) }
        return self
    }
}
