/// What a route dump asks for. With strict checking the real kernel filters
/// by table and protocol itself; the simulator does the same.
public struct RouteFilter: Sendable, Hashable {
    /// Only this family, or both when nil.
    public var family: AddressFamily?
    /// Only this table, or all when nil.
    public var table: UInt32?
    /// Only routes with this `rtm_protocol`, or all when nil.
    public var proto: UInt8?

    /// A filter; nil fields match everything.
    public init(family: AddressFamily? = nil, table: UInt32? = nil, proto: UInt8? = nil) {
        self.family = family
        self.table = table
        self.proto = proto
    }

    /// Every route of every family and table.
    public static let all = RouteFilter()

    /// Whether `route` passes the filter, for backends that filter themselves.
    public func matches(_ route: Route) -> Bool {
        (family == nil || family == route.family)
            && (table == nil || table == route.table)
            && (proto == nil || proto == route.proto)
    }
}

/// One rtnetlink change request.
public enum RtnlRequest: Sendable, Hashable {
    /// RTM_NEWADDR with NLM_F_CREATE|NLM_F_EXCL.
    case addAddress(InterfaceAddress)
    /// RTM_DELADDR.
    case deleteAddress(InterfaceAddress)
    /// RTM_NEWROUTE with NLM_F_CREATE|NLM_F_EXCL.
    case addRoute(Route)
    /// RTM_NEWROUTE with NLM_F_CREATE|NLM_F_REPLACE: creates or replaces the route with the same key.
    case replaceRoute(Route)
    /// RTM_DELROUTE, matched by key.
    case deleteRoute(Route)
}

/// An rtnetlink change notification, as a monitor delivers it.
public enum RtnlEvent: Sendable, Hashable {
    /// Whether the object appeared (or changed) or went away.
    public enum Action: String, Sendable, Hashable, Codable { case new, deleted }

    case link(Link, Action)
    case address(InterfaceAddress, Action)
    case route(Route, Action)
    /// The monitor's buffer overflowed (ENOBUFS): events were lost, resync.
    case overflow
}

/// The rtnetlink half of a kernel: links, addresses and routes in a netns.
///
/// Reconcilers are written against this protocol only; the simulated kernel
/// and the real one (libnl) both conform. The surface is batch-shaped: a pass
/// dumps each resource kind once and submits its changes as one batch.
///
/// Errors: every refusal is a ``KernelError`` carrying the kernel's errno. A
/// missing namespace is ENOENT. A dump that the kernel marked interrupted
/// (NLM_F_DUMP_INTR) is thrown as EINTR and never returned partially; callers
/// retry it.
public protocol RtnlBackend: Sendable {
    /// Dumps the namespace's links.
    func links(in scope: NetnsScope) async throws(KernelError) -> [Link]
    /// Dumps the namespace's addresses, both families.
    func addresses(in scope: NetnsScope) async throws(KernelError) -> [InterfaceAddress]
    /// Dumps the routes that match `filter`.
    func routes(in scope: NetnsScope, matching filter: RouteFilter) async throws(KernelError) -> [Route]
    /// Sends `requests` in order and returns one result per request
    /// attempted, in order. Without `stopOnError` every request is attempted
    /// whatever the kernel answers to the others (the real backend pipelines
    /// them); with it the kernel carries out nothing after the first failure,
    /// which is the last result (the real backend then waits for each answer
    /// before sending the next request, so only use it where that matters).
    /// A result may be missing for requests that could not be sent at all.
    func execute(_ requests: [RtnlRequest], in scope: NetnsScope, stopOnError: Bool) async -> [Result<Void, KernelError>]
    /// Subscribes to link, address and route changes. The stream yields
    /// ``RtnlEvent/overflow`` when events were lost, and finishes with an
    /// error when the monitor dies. Cancelling the iteration closes it.
    ///
    /// Like the kernel's, a monitor belongs to the namespace it was opened
    /// in, not to the name: when that namespace is deleted, the monitor keeps
    /// it alive and simply hears nothing more (no event, no error), even
    /// after the name is given to a new namespace. Follow the name with
    /// ``namespaceIdentities(of:)``.
    func events(in scope: NetnsScope) async throws(KernelError) -> AsyncThrowingStream<RtnlEvent, any Error>
    /// Follows what `scope` names: yields the identity of the namespace it
    /// names now (nil when it names none), then a new value each time that
    /// changes: a name deleted (nil) or given to a new namespace. Finishes
    /// when it can never change again: at once after the first value for the
    /// current namespace, after nil for a pid scope (`.pid`, or a
    /// `/proc/PID/ns/net` path: ``NetnsScope/process``) whose process exited
    /// (a pid reused by another process is never followed). Event-driven, not
    /// polled. Cancelling the iteration ends the watch.
    ///
    /// The default yields nothing and finishes: the backend cannot tell, and
    /// callers then do not follow the name.
    func namespaceIdentities(of scope: NetnsScope) async -> AsyncStream<NamespaceIdentity?>
}

extension RtnlBackend {
    /// A backend that cannot tell which namespace a scope names: an empty stream.
    public func namespaceIdentities(of scope: NetnsScope) async -> AsyncStream<NamespaceIdentity?> {
        AsyncStream { $0.finish() }
    }
}

/// Runs a dump, retrying it while the kernel reports it interrupted (EINTR),
/// at most `attempts` times, so a partial snapshot is never diffed.
package func retryingInterruptedDumps<T>(
    attempts: Int = 5, _ dump: () async throws(KernelError) -> T
) async throws(KernelError) -> T {
    var attempt = 1
    while true {
        do {
            return try await dump()
        } catch where error.errno == .interrupted && attempt < attempts {
            attempt += 1
        }
    }
}
