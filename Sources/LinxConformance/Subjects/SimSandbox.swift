import LinxKernelSim
import LinxReconcile
import Synchronization

/// The sandbox of a built-in subject on the simulated kernel: a fresh
/// kernel per case, seeded with the case's seed, and the scope in it.
public struct SimSandbox<Scope: Sendable>: Sendable {
    /// The case's own kernel; nothing else shares it.
    public let kernel: SimKernel
    /// Where the Source acts.
    public let scope: Scope
    /// Values found right after set-up, for subjects whose release restores them.
    public let boot: [String: String]
    /// The subject's last snapshot of the sandbox, for subjects that can
    /// tell it is still current (``RtnlSimSubject``: by the kernel's stamps).
    let memo = SimSnapshotMemo()

    public init(kernel: SimKernel, scope: Scope, boot: [String: String] = [:]) {
        self.kernel = kernel
        self.scope = scope
        self.boot = boot
    }
}

/// One snapshot kept with the kernel stamps it was read at: a sandbox's
/// scope is read after every pass, and most passes change nothing.
final class SimSnapshotMemo: Sendable {
    private let slot = Mutex<(stamps: [UInt64], snapshot: any Sendable)?>(nil)

    /// The snapshot stored at exactly `stamps`, nil when there is none or it is another type.
    func snapshot<T: Sendable>(at stamps: [UInt64], as type: T.Type) -> T? {
        slot.withLock { kept in kept.flatMap { $0.stamps == stamps ? $0.snapshot as? T : nil } }
    }

    func store<T: Sendable>(_ snapshot: T, at stamps: [UInt64]) {
        slot.withLock { $0 = (stamps, snapshot) }
    }

    /// The raw dumps behind the last few readings, for facts a snapshot
    /// leaves out (a route's device): an audit asks about the reading taken
    /// before the pass, usually one of the last two.
    private let dumps = Mutex<[(reading: ScopeReading, dump: any Sendable)]>([])
    private static let dumpsKept = 4

    /// Keeps `dump` as what `reading` was made from.
    func remember<T: Sendable>(_ dump: T, behind reading: ScopeReading) {
        dumps.withLock { kept in
            if kept.count == Self.dumpsKept { kept.removeFirst() }
            kept.append((reading, dump))
        }
    }

    /// The dump `reading` was made from, nil when it is no longer kept.
    func dump<T: Sendable>(behind reading: ScopeReading, as type: T.Type) -> T? {
        dumps.withLock { kept in kept.last { $0.reading == reading }?.dump as? T }
    }
}
