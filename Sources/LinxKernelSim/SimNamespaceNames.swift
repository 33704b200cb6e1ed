import LinxReconcile

/// Namespaces as the kernel keeps them apart from their names: each has an
/// identity (its nsfs inode), a name can be deleted and given to a new one,
/// and a deleted namespace lives on, silent, while a monitor socket opened
/// in it is open (observed on Linux 6.18: `NamespaceLifetimeTests` in
/// LinxLinuxTests; the simulator's side is checked the same way there and
/// in LinxKernelSimTests).
struct SimNamespaceNames: Sendable {
    /// The first inode handed out: the kernel's nsfs inodes sit in this range.
    static let firstInode: UInt64 = 4_026_531_840

    private(set) var identities: [NetnsScope: NamespaceIdentity] = [.current: NamespaceIdentity(device: 4, inode: firstInode)]
    private var nextInode = firstInode + 1
    /// Deleted namespaces, kept while a monitor of theirs is open.
    private(set) var orphans: [(identity: NamespaceIdentity, namespace: SimNetns)] = []
    private var watchers: [NetnsScope: [Int: AsyncStream<NamespaceIdentity?>.Continuation]] = [:]
    private var nextWatcher = 0

    /// What the watchers of a name are told, delivered after the kernel's
    /// lock is released (finishing a stream runs its termination handler,
    /// which takes the lock).
    struct Notice: Sendable {
        let watchers: [AsyncStream<NamespaceIdentity?>.Continuation]
        let identity: NamespaceIdentity?
        let finish: Bool

        func deliver() {
            for watcher in watchers {
                watcher.yield(identity)
                if finish { watcher.finish() }
            }
        }
    }

    /// No deleted namespace kept alive and no watcher: nothing that belongs
    /// to one kernel's readers (see `SimKernel.init(copying:seed:)`).
    var isQuiet: Bool { orphans.isEmpty && watchers.isEmpty }

    /// A namespace got `scope` as its name: a fresh identity, which the
    /// name's watchers are to hear.
    mutating func named(_ scope: NetnsScope) -> Notice {
        let identity = NamespaceIdentity(device: 4, inode: nextInode)
        nextInode += 1
        identities[scope] = identity
        return Notice(watchers: Array((watchers[scope] ?? [:]).values), identity: identity, finish: false)
    }

    /// `scope`'s name was deleted; `namespace` lives on while one of its
    /// monitors is open. A pid scope never names another namespace, so its
    /// watchers finish.
    mutating func unnamed(_ scope: NetnsScope, namespace: SimNetns) -> Notice {
        if let identity = identities.removeValue(forKey: scope), namespace.subscribers.contains(where: { !$0.isClosed }) {
            orphans.append((identity, namespace))
        }
        pruneOrphans()
        let notice = Notice(watchers: Array((watchers[scope] ?? [:]).values), identity: nil, finish: scope.isPid)
        if scope.isPid { watchers[scope] = nil }
        return notice
    }

    /// Forgets deleted namespaces whose last monitor closed: the kernel frees them.
    mutating func pruneOrphans() {
        orphans.removeAll { orphan in orphan.namespace.subscribers.allSatisfy(\.isClosed) }
    }

    /// A watch of `scope`'s name (see ``RtnlBackend/namespaceIdentities(of:)``)
    /// and its id for ``unwatch(_:id:)`` (nil when it finished at once).
    mutating func watch(_ scope: NetnsScope) -> (AsyncStream<NamespaceIdentity?>, AsyncStream<NamespaceIdentity?>.Continuation, Int?) {
        let (stream, continuation) = AsyncStream.makeStream(of: NamespaceIdentity?.self)
        continuation.yield(identities[scope])
        switch scope {
        case .current:
            continuation.finish()
            return (stream, continuation, nil)
        case _ where scope.process != nil && identities[scope] == nil:
            continuation.finish()
            return (stream, continuation, nil)
        default:
            break
        }
        nextWatcher += 1
        watchers[scope, default: [:]][nextWatcher] = continuation
        return (stream, continuation, nextWatcher)
    }

    /// Drops the watch `id` of `scope` (its reader went away).
    mutating func unwatch(_ scope: NetnsScope, id: Int) {
        watchers[scope]?[id] = nil
    }
}

extension NetnsScope {
    /// A process's namespace (`.pid`, or `/proc/PID/ns/net`): it ends with
    /// the process and is never named again.
    fileprivate var isPid: Bool { process != nil }
}
