import LinxConformance

/// What convergence fuzzing needs on top of the conformance subject: arm the
/// store's transient faults at the scenario's rate, end them, and count what
/// fired. Drift is the subject's own `drift(in:desired:using:)`. Fuzz it from
/// your `swift test` with `try await Fuzz.check(HostsSubject())`.
extension HostsSubject: FuzzableSubject {
    /// Transient errnos, and drift by a foreign writer.
    public var fuzzKinds: Set<SimFaultKind> { [.errno, .drift] }

    /// The store fails each call with the scenario's probability.
    public func armFaults(_ faults: FuzzFaults, in sandbox: HostsFile) async throws {
        sandbox.injectFaults(rate: faults.rate, seed: faults.seed)
    }

    /// The quiet phase: no more faults.
    public func disarmFaults(in sandbox: HostsFile) async throws {
        sandbox.stopFaults()
    }

    /// The store's count of injected faults.
    public func faultsFired(in sandbox: HostsFile) -> [SimFaultKind: Int] {
        [.errno: sandbox.faultsFired]
    }
}
