import Foundation
import LinxHost
import LinxKernelSim
import LinxReconcile

/// A simulated host that persists between `linx` runs (`--sim-state FILE`).
///
/// The file holds the host's layout (namespaces with their links, cgroups)
/// and a journal of every change linx made. Loading builds a fresh
/// ``SimKernel`` from the layout and replays the journal, which the simulator
/// makes deterministic, so the host is exactly as the last run left it.
struct SimHostFile: Codable {
    /// Links per namespace; the key "" is the current namespace, any other
    /// key a named one (/run/netns/NAME).
    var namespaces: [String: [String]] = ["": ["eth0", "eth1"]]
    /// Cgroup directories that exist.
    var cgroups: [String] = ["/sys/fs/cgroup/linx-demo"]
    /// Every change linx applied, in order.
    var journal: [SimJournalEntry] = []

    static func load(path: String) throws -> SimHostFile {
        guard RegularFile.exists(path) else { return SimHostFile() }
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(path)
        } catch {
            throw CommandError("cannot read the simulated host \(path): \(error.description)")
        }
        do {
            return try JSONDecoder().decode(SimHostFile.self, from: Data(bytes))
        } catch {
            throw CommandError("cannot read the simulated host \(path): \(error.localizedDescription)")
        }
    }

    /// A kernel in this file's state.
    func boot() async throws -> SimKernel {
        let kernel = SimKernel(seed: 0)
        for (name, links) in namespaces.sorted(by: { $0.key < $1.key }) {
            let scope: NetnsScope = name.isEmpty ? .current : .named(name)
            if !name.isEmpty { try kernel.createNamespace(scope) }
            for link in links { try kernel.addLink(link, in: scope) }
        }
        for cgroup in cgroups { try kernel.createCgroup(cgroup) }
        // Every entry was accepted when it was journalled; one the kernel now
        // refuses means the file was edited or is corrupt: say which, apply nothing more.
        for (number, entry) in journal.enumerated() {
            do {
                try await entry.replay(on: kernel)
            } catch {
                throw CommandError("simulated host: journal entry \(number + 1) (\(entry)) fails on replay: \(error)")
            }
        }
        return kernel
    }
}

/// One change linx made to a simulated host.
enum SimJournalEntry: Codable {
    case addAddress(String, InterfaceAddress)
    case deleteAddress(String, InterfaceAddress)
    case addRoute(String, Route)
    case replaceRoute(String, Route)
    case deleteRoute(String, Route)
    case sysctl(String, key: SysctlKey, value: String)
    case cgroup(path: String, file: String, value: String)
    /// A link change made with `linx sim link` (an operator's `ip link`).
    case link(String, SimLinkChange)
    /// An nf_tables transaction the kernel carried out.
    case nft(String, [NftCommand])
    /// The linx process that wrote the entries before it exited: its
    /// nf_tables socket closed, so the kernel removed the tables it owned
    /// (`lifetime: owned`) and orphaned the owned persistent ones, as the
    /// real kernel does when a one-shot `linx apply` (or a stopped `--watch`) exits.
    case nftSocketClosed

    init(_ request: RtnlRequest, namespace: String) {
        switch request {
        case .addAddress(let a): self = .addAddress(namespace, a)
        case .deleteAddress(let a): self = .deleteAddress(namespace, a)
        case .addRoute(let r): self = .addRoute(namespace, r)
        case .replaceRoute(let r): self = .replaceRoute(namespace, r)
        case .deleteRoute(let r): self = .deleteRoute(namespace, r)
        }
    }

    /// Applies the entry again; throws the kernel's refusal.
    func replay(on kernel: SimKernel) async throws {
        func run(_ request: RtnlRequest, _ ns: String) async throws {
            if case .failure(let error) = await kernel.execute([request], in: Self.scope(ns), stopOnError: true).first {
                throw error
            }
        }
        switch self {
        case .addAddress(let ns, let a): try await run(.addAddress(a), ns)
        case .deleteAddress(let ns, let a): try await run(.deleteAddress(a), ns)
        case .addRoute(let ns, let r): try await run(.addRoute(r), ns)
        case .replaceRoute(let ns, let r): try await run(.replaceRoute(r), ns)
        case .deleteRoute(let ns, let r): try await run(.deleteRoute(r), ns)
        case .sysctl(let ns, let key, let value): try await kernel.write(key, value: value, in: Self.scope(ns))
        case .cgroup(let path, let file, let value): try await kernel.write(file, value: value, in: path)
        case .link(let ns, let change): try change.apply(on: kernel, in: Self.scope(ns))
        case .nft(let ns, let commands):
            let scope = Self.scope(ns)
            _ = try await kernel.commit(commands, expecting: kernel.nftGeneration(in: scope) ?? 0, in: scope)
        case .nftSocketClosed:
            kernel.closeDefaultNftSocket()
        }
    }

    static func scope(_ namespace: String) -> NetnsScope { namespace.isEmpty ? .current : .named(namespace) }

    static func namespace(_ scope: NetnsScope) -> String {
        if case .path(let path) = scope, path.hasPrefix("/run/netns/") { return String(path.dropFirst("/run/netns/".count)) }
        return ""
    }
}

/// A change to a simulated host's links, as `ip link` makes it.
enum SimLinkChange: Codable, Sendable, CustomStringConvertible {
    case add(name: String, kind: String, up: Bool)
    case addVeth(name: String, peer: String, up: Bool)
    case set(name: String, up: Bool)
    case delete(name: String)

    func apply(on kernel: SimKernel, in scope: NetnsScope) throws(KernelError) {
        switch self {
        case .add(let name, let kind, let up): try kernel.addLink(name, kind: kind, up: up, in: scope)
        case .addVeth(let name, let peer, let up): try kernel.addVethPair(name, peer, up: up, in: scope)
        case .set(let name, let up): try kernel.setLink(name, up: up, in: scope)
        case .delete(let name): try kernel.removeLink(name, in: scope)
        }
    }

    var description: String {
        switch self {
        case .add(let name, let kind, let up): "link add \(name) type \(kind)\(up ? " up" : "")"
        case .addVeth(let name, let peer, let up): "link add \(name) type veth peer \(peer)\(up ? " up" : "")"
        case .set(let name, let up): "link set \(name) \(up ? "up" : "down")"
        case .delete(let name): "link del \(name)"
        }
    }
}

/// A simulated kernel that journals the changes it accepts, so the
/// `--sim-state` file can be rewritten after the command.
final class JournalingSimKernel: HostReconciler.Backend, @unchecked Sendable {
    // @unchecked: the journal is guarded by `lock`; the kernel is Sendable.
    let kernel: SimKernel
    private let lock = NSLock()
    private var journal: [SimJournalEntry] = []

    init(kernel: SimKernel) { self.kernel = kernel }

    /// The entries recorded since boot.
    var recorded: [SimJournalEntry] { lock.withLock { journal } }

    /// The command exits: its nf_tables socket (the kernel's default one,
    /// which every linx run on a simulated host uses) closes, journalled
    /// when it removed or orphaned a table.
    func closeNftSocket() {
        lock.withLock {
            if kernel.closeDefaultNftSocket() { journal.append(.nftSocketClosed) }
        }
    }

    private func record(_ entries: [SimJournalEntry]) { lock.withLock { journal += entries } }

    func links(in scope: NetnsScope) async throws(KernelError) -> [Link] { try await kernel.links(in: scope) }
    func addresses(in scope: NetnsScope) async throws(KernelError) -> [InterfaceAddress] { try await kernel.addresses(in: scope) }
    func routes(in scope: NetnsScope, matching filter: RouteFilter) async throws(KernelError) -> [Route] {
        try await kernel.routes(in: scope, matching: filter)
    }

    func execute(_ requests: [RtnlRequest], in scope: NetnsScope, stopOnError: Bool) async -> [Result<Void, KernelError>] {
        let results = await kernel.execute(requests, in: scope, stopOnError: stopOnError)
        let namespace = SimJournalEntry.namespace(scope)
        record(zip(requests, results).compactMap { request, result in
            if case .success = result { return SimJournalEntry(request, namespace: namespace) }
            return nil
        })
        return results
    }

    func events(in scope: NetnsScope) async throws(KernelError) -> AsyncThrowingStream<RtnlEvent, any Error> {
        try await kernel.events(in: scope)
    }

    func read(_ key: SysctlKey, in scope: NetnsScope) async throws(KernelError) -> String { try await kernel.read(key, in: scope) }
    func write(_ key: SysctlKey, value: String, in scope: NetnsScope) async throws(KernelError) {
        try await kernel.write(key, value: value, in: scope)
        record([.sysctl(SimJournalEntry.namespace(scope), key: key, value: value)])
    }
    func keys(under prefix: SysctlKey, in scope: NetnsScope) async throws(KernelError) -> [SysctlKey] {
        try await kernel.keys(under: prefix, in: scope)
    }

    func hierarchy(of cgroup: String) async throws(KernelError) -> CgroupHierarchy { try await kernel.hierarchy(of: cgroup) }
    func read(_ file: String, in cgroup: String) async throws(KernelError) -> String { try await kernel.read(file, in: cgroup) }
    func write(_ file: String, value: String, in cgroup: String) async throws(KernelError) {
        try await kernel.write(file, value: value, in: cgroup)
        record([.cgroup(path: cgroup, file: file, value: value)])
    }
    func files(in cgroup: String) async throws(KernelError) -> [String] { try await kernel.files(in: cgroup) }

    func observeTable(_ table: NftTableRef, in scope: NetnsScope) async throws(KernelError) -> NftObservation {
        try await kernel.observeTable(table, in: scope)
    }
    func commit(_ commands: [NftCommand], expecting generation: UInt32, in scope: NetnsScope) async throws(NftTransactionError) -> UInt32 {
        let after = try await kernel.commit(commands, expecting: generation, in: scope)
        record([.nft(SimJournalEntry.namespace(scope), commands)])
        return after
    }
    func canonicalize(_ table: NftTable, as ref: NftTableRef, in scope: NetnsScope) async throws(NftTransactionError) -> NftTable {
        try await kernel.canonicalize(table, as: ref, in: scope)
    }
    func nftEvents(in scope: NetnsScope) async throws(KernelError) -> AsyncThrowingStream<NftEvent, any Error> {
        try await kernel.nftEvents(in: scope)
    }
}
