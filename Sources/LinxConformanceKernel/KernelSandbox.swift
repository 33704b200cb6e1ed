import Glibc
import LinxConformance
import LinxLinux
import LinxReconcile
import LinxTestSupport

/// The sandbox of a built-in subject on the real kernel: a throwaway
/// network namespace (links `eth0`/`eth1`, a veth pair) made for one case
/// and always removed, and a backend of its own.
package struct KernelSandbox: Sendable {
    /// The namespace; ``tearDown`` deletes it.
    public let namespace: ThrowawayNamespace
    /// The backend the Source (and the foreign writer) use.
    public let kernel: LinuxKernel
    /// Values read right after set-up, for releases that restore them.
    public let boot: [String: String]
    /// The writes the Source under test sent (its mutation journal).
    let journal = WriteJournal()

    public var scope: NetnsScope { namespace.scope }

    /// Why a real-kernel subject cannot run here: it needs root. Every case
    /// is then skipped, saying so.
    static func unavailableReason(_ subject: String) -> String? {
        getuid() == 0 ? nil : "\(subject) needs root (it makes a throwaway network namespace or cgroup)"
    }

    static func requireRoot(_ subject: String) throws {
        if let reason = unavailableReason(subject) { throw ConformanceSkip(reason) }
    }

    static func make(subject: String) throws -> KernelSandbox {
        try requireRoot(subject)
        do {
            let namespace = try ThrowawayNamespace.create(links: [.veth("eth0", peer: "eth1")])
            return KernelSandbox(namespace: namespace, kernel: LinuxKernel(), boot: [:])
        } catch {
            throw ConformanceSkip("\(subject): cannot make a throwaway network namespace here: \(error)")
        }
    }
}
