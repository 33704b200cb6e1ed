import LinxKernelSim
import LinxReconcile

/// What the conformance suite needs to know about a ``/LinxReconcile/ReconcileSource`` it
/// cannot know on its own: how to make an isolated scope for one case, what
/// valid and invalid desired states look like, and how to look at, disturb
/// and populate the scope *without* going through the Source.
///
/// Implement it once per Source (see the hosts example in
/// `Examples/HostsSource` for a complete one) and run
/// ``Conformance/run(_:options:)`` on it, or make each case a test with
/// ``Conformance/check(_:case:options:)``.
///
/// Each case gets a fresh sandbox from ``makeSandbox(seed:)`` and hands it to
/// ``tearDown(_:)`` when it ends, passed or failed. Everything random is drawn
/// from the ``/LinxKernelSim/SimRandom`` the suite passes in, so a case's seed replays it.
public protocol ConformanceSubject: Sendable {
    /// The Source under test.
    associatedtype Source: ReconcileSource
    /// One case's isolated world: the scope plus whatever the subject needs
    /// to observe and disturb it (a simulated kernel, a namespace handle).
    associatedtype Sandbox: Sendable
    /// The identity of an entry in a ``ScopeSnapshot``.
    associatedtype EntryKey: Hashable & Sendable & CustomStringConvertible
    /// The value of an entry in a ``ScopeSnapshot``.
    associatedtype EntryValue: Hashable & Sendable & CustomStringConvertible

    /// Names the subject in results ("rtnl/sim", "hosts").
    var name: String { get }
    /// Optional abilities; cases needing a missing one are skipped.
    var capabilities: Set<SubjectCapability> { get }
    /// Why no case can run here (a real-kernel subject without root), or nil.
    /// Known before any case starts, so a test framework can report the
    /// cases as skipped rather than run them. Default: nil.
    var unavailableReason: String? { get }
    /// The desired state that wants nothing.
    var emptyDesired: Source.Desired { get }
    /// The ownership state that owns nothing (what a restart starts from).
    var emptyLastApplied: Source.LastApplied { get }

    /// Makes a fresh, isolated scope. Throw ``ConformanceSkip`` when the
    /// sandbox cannot exist here (no root, missing kernel feature).
    func makeSandbox(seed: UInt64) async throws -> Sandbox
    /// Removes everything the sandbox made. Called once per sandbox, always.
    func tearDown(_ sandbox: Sandbox) async

    /// The Source acting on `sandbox`.
    func source(for sandbox: Sandbox) -> Source
    /// The scope handed to the Source.
    func scope(of sandbox: Sandbox) -> Source.Scope
    /// The options handed to the Source.
    func options(for sandbox: Sandbox) -> Source.Options

    /// A valid, non-empty desired state for `sandbox`.
    func validDesired(in sandbox: Sandbox, using random: inout SimRandom) -> Source.Desired
    /// Desired states the Source must reject with `.invalidDesired`, applying
    /// nothing. At least one: an empty list fails the validation cases.
    func invalidDesired(in sandbox: Sandbox) -> [InvalidDesired<Source.Desired>]
    /// The entries a scope that satisfies `desired` must hold.
    func expectedEntries(for desired: Source.Desired, in sandbox: Sandbox) -> [EntryKey: EntryValue]
    /// What `op` does to the scope, in snapshot terms.
    func effect(of op: ReconcileOp<Source.Item>, in sandbox: Sandbox) -> OpEffect<EntryKey, EntryValue>
    /// Entries the kernel itself may change as a consequence of `op`, given
    /// the scope as it was before the pass (deleting a primary IPv4 address
    /// flushes its subnet's secondaries and the routes through it). The audit
    /// accepts changes to them as explained by `op`. Default: none.
    func sideEffects(
        of op: ReconcileOp<Source.Item>, before: ScopeSnapshot<EntryKey, EntryValue>, in sandbox: Sandbox
    ) -> Set<EntryKey>
    /// `desired` with one item taken out, or nil when it has none to release.
    func release(from desired: Source.Desired, in sandbox: Sandbox, using random: inout SimRandom)
        -> Release<Source.Desired, EntryKey, EntryValue>?

    /// Reads the scope independently of the Source.
    func snapshot(of sandbox: Sandbox) async throws -> ScopeSnapshot<EntryKey, EntryValue>
    /// Adds state the Source does not own and must never touch, disjoint from
    /// `desired`; returns the entries it made.
    func makeForeignState(in sandbox: Sandbox, avoiding desired: Source.Desired, using random: inout SimRandom)
        async throws -> [EntryKey: EntryValue]
    /// Disturbs a scope that satisfies `desired` as a foreign writer would:
    /// changes, deletes or adds entries.
    func drift(in sandbox: Sandbox, desired: Source.Desired, using random: inout SimRandom)
        async throws -> Drift<EntryKey, EntryValue>

    /// The entries `lastApplied` says the Source owns, in snapshot terms, or
    /// nil when the subject cannot read its Source's ownership record. With
    /// it the suite checks every pass's lastApplied against the report: a
    /// failed create is not owned (unless it already was), a failed update or
    /// release stays owned, an applied create is owned, an applied release is
    /// not. Without it those checks are skipped; the ones that follow the
    /// reports alone still run. Default: nil.
    func ownedEntries(in lastApplied: Source.LastApplied, in sandbox: Sandbox) -> Set<EntryKey>?
    /// The same for a Source that keeps part of its ownership in the kernel
    /// rather than in lastApplied (rtnl tags its routes with `rtm_protocol`):
    /// `scope` is the snapshot taken just after the pass, and entries it
    /// holds with the Source's tag are owned. The suite calls this one.
    /// Default: ``ownedEntries(in:in:)``.
    func ownedEntries(
        in lastApplied: Source.LastApplied, scope: ScopeSnapshot<EntryKey, EntryValue>, in sandbox: Sandbox
    ) -> Set<EntryKey>?
    /// True when an entry must not exist in a scope that satisfies `desired`
    /// (say, a name in the namespace desired states draw from that `desired`
    /// does not list). Checked after every pass that reports convergence, so
    /// a subject can state absence, not only presence. Default: false.
    func mustBeAbsent(_ key: EntryKey, value: EntryValue, when desired: Source.Desired, in sandbox: Sandbox) -> Bool
    /// A stamp of the scope's write journal: it must change on every write,
    /// even one that leaves the bytes as they were (a write counter, a
    /// journal's length, a file's inode and mtime). Needs `.mutationJournal`;
    /// with it, the suite checks that a pass reporting no op wrote nothing.
    /// ``MutationStamp/backendWrites(of:)`` gives one for a ``/LinxKernelSim/SimKernel``.
    /// Default: nil.
    func mutationStamp(of sandbox: Sandbox) async throws -> MutationStamp?

    /// From now on, some kernel operations fail transiently (errno faults
    /// that do not themselves change the scope). Needs `.faultInjection`.
    ///
    /// The rules a Source must keep under them: a pass may throw only when it
    /// could not run at all (observing failed), and then it changed nothing;
    /// otherwise it returns a report in which every planned op is applied,
    /// failed or pending exactly once, and lastApplied still owns what a
    /// failed op touched.
    func injectFaults(in sandbox: Sandbox, using random: inout SimRandom) async throws
    /// Ends the faults `injectFaults` started.
    func stopFaults(in sandbox: Sandbox) async throws
    /// A foreign change the Source's monitor must report. Needs `.monitorTriggers`.
    func triggerChange(in sandbox: Sandbox) async throws
    /// Makes the Source's monitor lose events (ENOBUFS). Needs `.monitorTriggers`.
    func triggerOverflow(in sandbox: Sandbox) async throws
}

extension ConformanceSubject {
    public var capabilities: Set<SubjectCapability> { [] }

    public var unavailableReason: String? { nil }

    public func sideEffects(
        of op: ReconcileOp<Source.Item>, before: ScopeSnapshot<EntryKey, EntryValue>, in sandbox: Sandbox
    ) -> Set<EntryKey> {
        []
    }

    public func ownedEntries(in lastApplied: Source.LastApplied, in sandbox: Sandbox) -> Set<EntryKey>? { nil }

    public func ownedEntries(
        in lastApplied: Source.LastApplied, scope: ScopeSnapshot<EntryKey, EntryValue>, in sandbox: Sandbox
    ) -> Set<EntryKey>? {
        ownedEntries(in: lastApplied, in: sandbox)
    }

    public func mustBeAbsent(
        _ key: EntryKey, value: EntryValue, when desired: Source.Desired, in sandbox: Sandbox
    ) -> Bool {
        false
    }

    public func mutationStamp(of sandbox: Sandbox) async throws -> MutationStamp? { nil }

    public func injectFaults(in sandbox: Sandbox, using random: inout SimRandom) async throws {
        throw ConformanceSkip("\(name) cannot inject faults")
    }

    public func stopFaults(in sandbox: Sandbox) async throws {}

    public func triggerChange(in sandbox: Sandbox) async throws {
        throw ConformanceSkip("\(name) cannot provoke monitor events")
    }

    public func triggerOverflow(in sandbox: Sandbox) async throws {
        throw ConformanceSkip("\(name) cannot make its monitor lose events")
    }
}
