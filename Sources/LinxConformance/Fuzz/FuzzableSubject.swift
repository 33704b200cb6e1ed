import LinxKernelSim
import LinxReconcile

/// A conformance subject that convergence fuzzing can drive: the protocol a
/// Source's author implements to fuzz it (``Fuzz/check(_:options:)`` from
/// their own `swift test`, or ``FuzzCampaign/run(_:options:progress:)``).
///
/// On top of ``ConformanceSubject`` (a fresh sandbox, desired states, an
/// independent snapshot, foreign state and drift), fuzzing needs a fault mix
/// it can arm at a rate and disarm, and counts of what fired. A subject
/// whose sandbox is a ``/LinxKernelSim/SimKernel`` gets all of that from
/// ``SimKernelFuzzableSubject`` by naming the kernel; a subject over its own
/// store (like `Examples/HostsSource`) implements the three fault calls.
///
/// A scenario runs a fault phase (faults armed at the scenario's rate,
/// desired-state changes, drift and reboots at seeded passes), then a quiet
/// phase in which the Source must converge within a few passes. Every pass
/// is audited as the conformance suite audits it.
public protocol FuzzableSubject: ConformanceSubject {
    /// The fault kinds that can fire for this Source, and so the kinds a
    /// campaign requires to fire. Include ``/LinxKernelSim/SimFaultKind/drift`` to have
    /// ``ConformanceSubject/drift(in:desired:using:)`` scheduled, and
    /// ``/LinxKernelSim/SimFaultKind/reboot`` to have ``reboot(_:)`` scheduled.
    var fuzzKinds: Set<SimFaultKind> { get }

    /// A desired state sized for fuzzing. Default: ``ConformanceSubject/validDesired(in:using:)``.
    func fuzzDesired(in sandbox: Sandbox, using random: inout SimRandom) -> Source.Desired

    /// Arms `faults` for the fault phase: from now on the sandbox's
    /// operations fail (or race, or vanish) at `faults.rate`, drawing only
    /// from `faults.kinds`.
    func armFaults(_ faults: FuzzFaults, in sandbox: Sandbox) async throws

    /// Ends every armed fault: the quiet phase starts.
    func disarmFaults(in sandbox: Sandbox) async throws

    /// How many faults of each kind fired in the sandbox so far. A campaign
    /// in which a kind of ``fuzzKinds`` never fired fails: a run that
    /// exercised nothing proves nothing.
    func faultsFired(in sandbox: Sandbox) -> [SimFaultKind: Int]

    /// Reboots the sandbox (state that does not survive a reboot is lost).
    /// Called only when ``fuzzKinds`` holds ``/LinxKernelSim/SimFaultKind/reboot``.
    func reboot(_ sandbox: Sandbox) async throws

    /// Puts back what a fault took away as an operator would (interfaces
    /// after a vanish or a reboot), so the desired state is valid again.
    /// Default: nothing to repair.
    func repair(_ sandbox: Sandbox) throws

    /// Opens a monitor for the length of a scenario, so overflow and
    /// monitor-death faults have something to hit; nil (the default) when
    /// the subsystem has none. Its events are left buffered, never drained.
    func openMonitor(in sandbox: Sandbox) async -> MonitorProbe?

    /// Turns the sandbox's own operation log on (determinism checks,
    /// traces) or off (campaigns, for speed). Default: no log.
    func recordsHistory(_ enabled: Bool, in sandbox: Sandbox)

    /// The sandbox's operation log so far, one line an operation; two runs of
    /// one scenario must give the same lines. Default: none (determinism is
    /// then judged on the passes' reports alone).
    func history(of sandbox: Sandbox) -> [String]

    /// Of ``history(of:)``, the lines that say a fault fired, for traces.
    /// Default: none (a trace then shows per-pass counts only).
    func faultLog(of sandbox: Sandbox) -> [String]

    /// `lastApplied` as trace lines, in a stable order: two runs of one
    /// scenario must print the same lines. Default: a set of comparable
    /// elements, one line each, sorted; anything else, its
    /// `String(describing:)`, which for a type without an order of its own
    /// (a dictionary, a struct holding a set) changes with the process's
    /// hash seed: implement it then.
    func describe(_ lastApplied: Source.LastApplied) -> [String]
}

/// The fault mix of one scenario's fault phase.
public struct FuzzFaults: Sendable, Hashable {
    /// The chance, per operation, that a fault fires.
    public var rate: Double
    /// The kinds that may fire (drift and reboot are scheduled by the
    /// scenario instead and never appear here).
    public var kinds: Set<SimFaultKind>
    /// Seeds the draws of a subject that keeps its own random stream.
    public var seed: UInt64

    /// A fault mix.
    public init(rate: Double, kinds: Set<SimFaultKind>, seed: UInt64) {
        self.rate = rate
        self.kinds = kinds
        self.seed = seed
    }
}

extension FuzzableSubject {
    /// Draws a conformance desired state.
    public func fuzzDesired(in sandbox: Sandbox, using random: inout SimRandom) -> Source.Desired {
        validDesired(in: sandbox, using: &random)
    }

    /// Reboots nothing: only called when ``fuzzKinds`` holds reboot.
    public func reboot(_ sandbox: Sandbox) async throws {
        throw CaseFailure("\(name) lists reboot in fuzzKinds but does not implement reboot(_:)")
    }

    /// Nothing to repair.
    public func repair(_ sandbox: Sandbox) throws {}

    /// No monitor.
    public func openMonitor(in sandbox: Sandbox) async -> MonitorProbe? { nil }

    /// No operation log.
    public func recordsHistory(_ enabled: Bool, in sandbox: Sandbox) {}

    /// No operation log.
    public func history(of sandbox: Sandbox) -> [String] { [] }

    /// No fault log.
    public func faultLog(of sandbox: Sandbox) -> [String] { [] }

    /// One line.
    public func describe(_ lastApplied: Source.LastApplied) -> [String] { [String(describing: lastApplied)] }
}

extension FuzzableSubject where Source.LastApplied: SetAlgebra & Sequence, Source.LastApplied.Element: Comparable {
    /// One line an element, sorted: a set's own order changes with the
    /// process's hash seed, and the determinism check would take that for
    /// two runs that differ.
    public func describe(_ lastApplied: Source.LastApplied) -> [String] {
        lastApplied.sorted().map { String(describing: $0) }
    }
}

/// A fuzzable subject whose sandbox is a ``/LinxKernelSim/SimKernel``: naming the kernel
/// is enough, the kernel's fault plans, reboot and history do the rest.
public protocol SimKernelFuzzableSubject: FuzzableSubject {
    /// The simulated kernel behind `sandbox`.
    func kernel(of sandbox: Sandbox) -> SimKernel
}

extension SimKernelFuzzableSubject {
    /// Arms the kernel's seeded fault plan (the kernel's own seed drives it).
    public func armFaults(_ faults: FuzzFaults, in sandbox: Sandbox) async throws {
        guard !faults.kinds.isEmpty else { return }
        kernel(of: sandbox).arm(SimFaultPlan(rate: faults.rate, kinds: faults.kinds))
    }

    /// Clears every fault rule and plan.
    public func disarmFaults(in sandbox: Sandbox) async throws {
        kernel(of: sandbox).clearFaults()
    }

    /// The kernel's fault counts.
    public func faultsFired(in sandbox: Sandbox) -> [SimFaultKind: Int] {
        kernel(of: sandbox).faultsFired
    }

    /// Reboots the kernel.
    public func reboot(_ sandbox: Sandbox) async throws {
        kernel(of: sandbox).reboot()
    }

    /// Turns the kernel's history on or off.
    public func recordsHistory(_ enabled: Bool, in sandbox: Sandbox) {
        kernel(of: sandbox).recordsHistory = enabled
    }

    /// The kernel's history.
    public func history(of sandbox: Sandbox) -> [String] {
        kernel(of: sandbox).history.map(\.description)
    }

    /// The kernel's history entries of faults firing, each as its `faultLine`.
    public func faultLog(of sandbox: Sandbox) -> [String] {
        kernel(of: sandbox).history.filter { $0.actor == .fault }.map(\.faultLine)
    }
}

/// A monitor opened for fuzzing, and the one question asked of it.
public struct MonitorProbe: Sendable {
    /// Reads what is left of the (finished) stream: true when it ended
    /// with an error, as a dead monitor must.
    public let endedWithError: @Sendable () async -> Bool

    /// A probe asking `endedWithError`.
    public init(endedWithError: @escaping @Sendable () async -> Bool) {
        self.endedWithError = endedWithError
    }
}
