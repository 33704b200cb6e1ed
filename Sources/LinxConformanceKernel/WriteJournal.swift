import LinxConformance
import LinxReconcile
import Synchronization

/// The mutation journal of a real-kernel subject: every write the Source
/// under test sends to the kernel, counted where it leaves the Source (its
/// backend), the way the simulated kernel's history counts backend requests.
///
/// The kernel keeps no such count itself. A file's mtime does move on every
/// write to /proc/sys and cgroup files, even one of the same bytes (checked
/// on this machine's Linux 6.18), but its inode can be evicted and made
/// again between two readings (a false "wrote"), and its coarse clock can
/// give two writes one time (a missed write); a netlink dump shows a change,
/// never a rewrite of the same route. Counting at the backend has neither
/// gap, and the built-in Sources reach the kernel only through it.
final class WriteJournal: Sendable {
    private let writes = Mutex(0)

    init() {}

    /// Counts `count` writes sent.
    func record(_ count: Int = 1) {
        writes.withLock { $0 += count }
    }

    /// The reading the suite compares before and after a pass.
    var stamp: MutationStamp {
        MutationStamp(writes: writes.withLock { $0 })
    }
}

/// A sysctl backend that counts every write (sent, whatever its outcome).
struct JournaledSysctlBackend: SysctlBackend {
    let base: any SysctlBackend
    let journal: WriteJournal

    func read(_ key: SysctlKey, in scope: NetnsScope) async throws(KernelError) -> String {
        try await base.read(key, in: scope)
    }

    func write(_ key: SysctlKey, value: String, in scope: NetnsScope) async throws(KernelError) {
        journal.record()
        try await base.write(key, value: value, in: scope)
    }

    func keys(under prefix: SysctlKey, in scope: NetnsScope) async throws(KernelError) -> [SysctlKey] {
        try await base.keys(under: prefix, in: scope)
    }
}

/// A cgroup backend that counts every write (sent, whatever its outcome).
struct JournaledCgroupBackend: CgroupBackend {
    let base: any CgroupBackend
    let journal: WriteJournal

    func hierarchy(of cgroup: String) async throws(KernelError) -> CgroupHierarchy {
        try await base.hierarchy(of: cgroup)
    }

    func read(_ file: String, in cgroup: String) async throws(KernelError) -> String {
        try await base.read(file, in: cgroup)
    }

    func write(_ file: String, value: String, in cgroup: String) async throws(KernelError) {
        journal.record()
        try await base.write(file, value: value, in: cgroup)
    }

    func files(in cgroup: String) async throws(KernelError) -> [String] {
        try await base.files(in: cgroup)
    }
}

/// An rtnetlink backend that counts every request sent (dumps and the
/// monitor are not writes).
struct JournaledRtnlBackend: RtnlBackend {
    let base: any RtnlBackend
    let journal: WriteJournal

    func links(in scope: NetnsScope) async throws(KernelError) -> [Link] {
        try await base.links(in: scope)
    }

    func addresses(in scope: NetnsScope) async throws(KernelError) -> [InterfaceAddress] {
        try await base.addresses(in: scope)
    }

    func routes(in scope: NetnsScope, matching filter: RouteFilter) async throws(KernelError) -> [Route] {
        try await base.routes(in: scope, matching: filter)
    }

    func execute(_ requests: [RtnlRequest], in scope: NetnsScope, stopOnError: Bool) async -> [Result<Void, KernelError>] {
        journal.record(requests.count)
        return await base.execute(requests, in: scope, stopOnError: stopOnError)
    }

    func events(in scope: NetnsScope) async throws(KernelError) -> AsyncThrowingStream<RtnlEvent, any Error> {
        try await base.events(in: scope)
    }

    func namespaceIdentities(of scope: NetnsScope) async -> AsyncStream<NamespaceIdentity?> {
        await base.namespaceIdentities(of: scope)
    }
}
