import LinxKernelSim

/// A desired state the Source must refuse, with the reason a reader of the
/// results needs to see which rule it probes.
public struct InvalidDesired<Desired: Sendable>: Sendable {
    /// What is wrong with it, e.g. "address is not an IP address".
    public var label: String
    /// The desired state itself.
    public var desired: Desired

    public init(_ label: String, _ desired: Desired) {
        self.label = label
        self.desired = desired
    }
}

/// A desired state with one item taken out, and what the scope must look like
/// for that item once a pass has released it.
public struct Release<Desired: Sendable, Key: Hashable & Sendable & CustomStringConvertible, Value: Hashable & Sendable & CustomStringConvertible>: Sendable {
    /// What was released, for failure messages.
    public var label: String
    /// The desired state without the released item.
    public var desired: Desired
    /// The entries of the released item after the pass: a value it must hold
    /// (a sysctl reverted to its original), or nil where it must be absent.
    /// Every other entry must be left exactly as it was, except `mayChange`.
    public var expected: [Key: Value?]
    /// Side-effect entries the release may change (a connected route).
    public var mayChange: Set<Key>

    public init(_ label: String, desired: Desired, expected: [Key: Value?], mayChange: Set<Key> = []) {
        self.label = label
        self.desired = desired
        self.expected = expected
        self.mayChange = mayChange
    }
}

/// What a drift did to the scope: a foreign writer changed, deleted or added
/// entries behind the Source's back.
public struct Drift<Key: Hashable & Sendable & CustomStringConvertible, Value: Hashable & Sendable & CustomStringConvertible>: Sendable {
    /// What happened, e.g. "deleted web.example", for failure messages.
    public var label: String
    /// Entries the drift added that the Source does not own: they are foreign
    /// state from now on and must be left alone.
    public var addedForeign: [Key: Value]

    public init(_ label: String, addedForeign: [Key: Value] = [:]) {
        self.label = label
        self.addedForeign = addedForeign
    }
}

/// Optional abilities of a subject. A case that needs one the subject lacks
/// is skipped, with the missing ability as its reason, never failed.
public enum SubjectCapability: String, Sendable, Hashable, CaseIterable, Codable {
    /// ``ConformanceSubject/injectFaults(in:using:)`` makes some kernel
    /// operations fail transiently, and ``ConformanceSubject/stopFaults(in:)`` ends that.
    case faultInjection
    /// ``ConformanceSubject/triggerChange(in:)`` makes a change the Source's
    /// monitor must report (and the Source's `subscribe` has hints to give).
    case monitorTriggers
    /// ``ConformanceSubject/triggerOverflow(in:)`` makes the monitor lose
    /// events on demand.
    case overflowTrigger
    /// ``ConformanceSubject/mutationStamp(of:)`` sees every write to the
    /// scope, so a pass that reports nothing can be shown to write nothing.
    case mutationJournal
}

/// One reading of a scope's write journal (see
/// ``ConformanceSubject/mutationStamp(of:)``): two readings differ exactly
/// when something wrote the scope in between.
public struct MutationStamp: Sendable, Hashable, CustomStringConvertible {
    /// The reading, as failure messages print it ("17 writes", "inode 42 mtime 1.5").
    public var description: String

    /// A reading described by `text`.
    public init(_ text: String) {
        self.description = text
    }

    /// A reading of a write counter.
    public init(writes: Int) {
        self.description = "\(writes) writes"
    }

    /// The writes the backend (the Source under test) has sent to `kernel`,
    /// counted from its history; nil when the history is off.
    public static func backendWrites(of kernel: SimKernel) -> MutationStamp? {
        guard kernel.recordsHistory else { return nil }
        var writes = 0
        for entry in kernel.history where entry.actor == .backend {
            switch entry.action {
            case .request, .sysctlWrite: writes += 1
            case .cgroup(let op, _, _, _) where op == .cgroupWrite: writes += 1
            default: break
            }
        }
        return MutationStamp(writes: writes)
    }
}

/// Thrown by a subject (typically from `makeSandbox`) when a case cannot run
/// here at all, e.g. a real-kernel subject without root. The case is skipped
/// with this reason.
public struct ConformanceSkip: Error, Sendable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}
