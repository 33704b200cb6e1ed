import LinxReconcile
import SystemPackage

/// The fault rules armed on a kernel and the record of what fired.
struct FaultEngine: Sendable {
    var errnoRules: [ErrnoRule] = []
    /// Dumps left to interrupt, per dump kind (nil: any dump).
    var interruptions: [(operation: SimOperation?, remaining: Int)] = []
    /// Creates left to lose to a concurrent writer, per namespace.
    var races: [NetnsScope: Int] = [:]
    /// Links to delete just before the next write request in their namespace.
    var vanishing: [(scope: NetnsScope, link: String)] = []
    var plan: SimFaultPlan? {
        didSet {
            planKinds = plan.map { plan in SimFaultKind.allCases.filter { plan.kinds.contains($0) } } ?? []
            planRate = plan?.rate
        }
    }
    /// The plan's kinds in declaration order: what a draw filters, without
    /// a set lookup per kind on every faulted operation.
    private(set) var planKinds: [SimFaultKind] = []
    /// The plan's rate: what every operation reads, without copying the plan.
    private(set) var planRate: Double?
    /// Batches whose middle request to refuse: a probability and the error.
    var midBatch: (fraction: Double, error: KernelError)?
    var fired: [SimFaultKind: Int] = [:]

    /// Fail some operations of one kind with an errno.
    struct ErrnoRule: Sendable {
        var operation: SimOperation
        var error: KernelError
        /// Operations left to fail, nil for "a fraction, until cleared".
        var remaining: Int?
        var fraction: Double
    }

    /// False when nothing is armed: the fast path skips the gate entirely.
    var isArmed: Bool {
        // `planRate` is set exactly when `plan` is (its didSet): every backend
        // operation asks, and reading the plan itself copies its set and arrays.
        !errnoRules.isEmpty || !interruptions.isEmpty || !races.isEmpty || !vanishing.isEmpty || planRate != nil
            || midBatch != nil
    }

    /// The error an operation of kind `op` fails with, if an errno rule fires.
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
            let error = errnoRules[i].error
            errnoRules.removeAll { $0.remaining == 0 }
            return error
        }
        return nil
    }

    /// True (and counted) when a dump of kind `op` is to come back interrupted.
    mutating func interrupts(_ op: SimOperation) -> Bool {
        guard let i = interruptions.firstIndex(where: { $0.operation == nil || $0.operation == op }) else { return false }
        interruptions[i].remaining -= 1
        if interruptions[i].remaining <= 0 { interruptions.remove(at: i) }
        fired[.interruptedDump, default: 0] += 1
        return true
    }
}

/// The kinds of fault the simulator injects; ``SimKernel/faultsFired``
/// counts each, so a test can prove its faults were exercised.
public enum SimFaultKind: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// An operation failed with an injected errno.
    case errno
    /// Subscribers lost events (ENOBUFS).
    case overflow
    /// A concurrent writer created the object just before our add (EEXIST).
    case eexistRace
    /// An interface vanished between observe and apply (ENODEV).
    case vanish
    /// A dump came back interrupted (EINTR).
    case interruptedDump
    /// Monitors died.
    case monitorDeath
    /// The machine rebooted.
    case reboot
    /// A foreign writer changed something.
    case drift
    /// One request in the middle of a batch was refused with an errno while
    /// the requests after it still ran, as the real kernel does with
    /// pipelined sends (it processes each request as it arrives; netlink
    /// has no "abort the rest"). Only batches of two or more requests.
    case batchRefusal

    /// Declaration order, so reports list kinds stably.
    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// A seeded random fault plan: before each backend operation, with
/// probability `rate`, one fault of an enabled kind that applies to that
/// operation fires (an interrupted dump only on a dump, an EEXIST race only
/// on an add, a vanishing link only before a write...). Every draw comes from
/// the kernel's seeded generator, so one kernel seed and one plan give one
/// history.
public struct SimFaultPlan: Sendable, Hashable {
    /// Probability that a backend operation triggers a fault.
    public var rate: Double
    /// The kinds that may fire.
    public var kinds: Set<SimFaultKind>
    /// The errnos an `.errno` fault picks from.
    public var errnos: [Errno]
    /// How many foreign changes one `.drift` fault makes.
    public var driftSteps: ClosedRange<Int>
    /// Cgroups drift may touch.
    public var cgroups: [String]

    /// A plan with an explicit rate and set of kinds (every kind but reboot by default).
    public init(
        rate: Double, kinds: Set<SimFaultKind> = Set(SimFaultKind.allCases).subtracting([.reboot]),
        errnos: [Errno] = [.noBufferSpace, .resourceBusy, .noMemory, .resourceTemporarilyUnavailable],
        driftSteps: ClosedRange<Int> = 1...3, cgroups: [String] = []
    ) {
        self.rate = rate
        self.kinds = kinds
        self.errnos = errnos.isEmpty ? [.ioError] : errnos
        self.driftSteps = driftSteps
        self.cgroups = cgroups
    }

    /// A plan drawn from `seed`: a rate in 2...10 % and a random non-empty
    /// set of kinds (reboot included only when `allowReboot`).
    public static func random(seed: UInt64, allowReboot: Bool = false, cgroups: [String] = []) -> SimFaultPlan {
        var rng = SimRandom(seed: seed)
        let candidates = SimFaultKind.allCases.filter { allowReboot || $0 != .reboot }
        var kinds = Set(candidates.filter { _ in rng.chance(0.6) })
        if kinds.isEmpty { kinds.insert(rng.pick(candidates)) }
        return SimFaultPlan(rate: 0.02 + Double(rng.below(9)) / 100, kinds: kinds, cgroups: cgroups)
    }
}
