import LinxReconcile

/// The fault rules armed on a kernel and the record of what fired.
struct FaultEngine: Sendable {
    var errnoRules: [ErrnoRule] = []
    var fired: [SimFaultKind: Int] = [:]

    /// Fail some operations of one kind with an errno.
    struct ErrnoRule: Sendable {
        var operation: SimOperation
        var errno: KernelError
        /// Operations left to fail, nil for "a fraction, forever".
        var remaining: Int?
        var fraction: Double
    }

    /// The error an operation of kind `op` fails with, if a rule fires.
    mutating func errnoFault(for op: SimOperation, rng: inout SimRandom) -> KernelError? {
        guard !errnoRules.isEmpty else { return nil }
        for i in errnoRules.indices where errnoRules[i].operation == op {
            if let remaining = errnoRules[i].remaining {
                guard remaining > 0 else { continue }
                errnoRules[i].remaining = remaining - 1
            } else if !rng.chance(errnoRules[i].fraction) {
                continue
            }
            fired[.errno, default: 0] += 1
            let error = errnoRules[i].errno
            errnoRules.removeAll { $0.remaining == 0 }
            return error
        }
        return nil
    }
}

/// The kinds of fault the simulator injects; ``SimKernel/faultsFired``
/// counts each, so a test can prove its faults were exercised.
public enum SimFaultKind: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// An operation failed with an injected errno.
    case errno
    /// A subscriber lost events (ENOBUFS).
    case overflow
    /// A concurrent writer created the object just before our add (EEXIST).
    case eexistRace
    /// An interface vanished between observe and apply (ENODEV).
    case vanish
    /// A dump came back interrupted (EINTR).
    case interruptedDump
    /// A monitor died.
    case monitorDeath
    /// The machine rebooted.
    case reboot
    /// A foreign writer changed something.
    case drift

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
