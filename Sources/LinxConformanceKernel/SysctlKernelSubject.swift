import LinxConformance
import LinxKernelSim
import LinxLinux
import LinxReconcile

/// The built-in subject for ``SysctlSource`` on the real kernel, root only:
/// each case in a throwaway namespace, `revertOnRelease` on, the same keys
/// as ``SysctlSimSubject`` (all isolated by network namespaces, so the host
/// is never written). No fault injection; the mutation journal counts the
/// writes the Source sends (``WriteJournal``).
package struct SysctlKernelSubject: ConformanceSubject {
    public typealias Source = SysctlSource
    public typealias Sandbox = KernelSandbox
    public typealias EntryKey = String
    public typealias EntryValue = String

    public init() {}

    public var name: String { "sysctl/kernel" }
    public var unavailableReason: String? { KernelSandbox.unavailableReason(name) }
    public var capabilities: Set<SubjectCapability> { [.mutationJournal] }
    public var emptyDesired: SysctlDesiredState { .empty }
    public var emptyLastApplied: SysctlLastApplied { .empty }

    public func makeSandbox(seed: UInt64) async throws -> KernelSandbox {
        let bare = try KernelSandbox.make(subject: name)
        var boot: [String: String] = [:]
        for (name, key) in SysctlSimSubject.scopeKeys {
            boot[name] = (try? await bare.kernel.read(key, in: bare.scope)).map(SysctlValue.normalized)
        }
        return KernelSandbox(namespace: bare.namespace, kernel: bare.kernel, boot: boot)
    }

    public func tearDown(_ sandbox: KernelSandbox) async { sandbox.namespace.remove() }

    public func source(for sandbox: KernelSandbox) -> SysctlSource { SysctlSource(backend: JournaledSysctlBackend(base: sandbox.kernel, journal: sandbox.journal))
    }
    public func scope(of sandbox: KernelSandbox) -> NetnsScope { sandbox.scope }
    public func options(for sandbox: KernelSandbox) -> SysctlOptions { SysctlOptions(revertOnRelease: true) }

    public func validDesired(in sandbox: KernelSandbox, using random: inout SimRandom) -> SysctlDesiredState {
        SysctlSimSubject.validDesired(using: &random) { key in
            (try? sandbox.namespace.sysctl(key)).map(SysctlValue.normalized)
        }
    }

    public func invalidDesired(in sandbox: KernelSandbox) -> [InvalidDesired<SysctlDesiredState>] {
        [
            InvalidDesired("a key that escapes /proc/sys", ["net/../../etc/passwd": 1]),
            InvalidDesired("a key that does not exist", ["net.ipv4.no_such_key": 1]),
            InvalidDesired(
                "the same key dotted and slashed with different values",
                ["net.ipv4.ip_default_ttl": 61, "net/ipv4/ip_default_ttl": 62]),
            InvalidDesired("a host-wide key from a non-current namespace", ["kernel.hostname": "oops"]),
            InvalidDesired(
                "an unprivileged port start above the local port range's low end",
                [SysctlSimSubject.portStart: 1417, SysctlSimSubject.portRange: "1046 23567"]),
        ]
    }

    public func expectedEntries(for desired: SysctlDesiredState, in sandbox: KernelSandbox) -> [String: String] {
        SysctlSimSubject.expectedEntries(for: desired)
    }

    public func effect(of op: ReconcileOp<SysctlSetting>, in sandbox: KernelSandbox) -> OpEffect<String, String> {
        SysctlSimSubject.effect(of: op)
    }

    public func release(from desired: SysctlDesiredState, in sandbox: KernelSandbox, using random: inout SimRandom)
        -> Release<SysctlDesiredState, String, String>?
    {
        SysctlSimSubject.release(from: desired, boot: sandbox.boot, using: &random)
    }

    public func ownedEntries(in lastApplied: SysctlLastApplied, in sandbox: KernelSandbox) -> Set<String>? {
        SysctlSimSubject.ownedEntries(in: lastApplied)
    }

    public func mutationStamp(of sandbox: KernelSandbox) async throws -> MutationStamp? { sandbox.journal.stamp }

    public func snapshot(of sandbox: KernelSandbox) async throws -> ScopeSnapshot<String, String> {
        var entries: [String: String] = [:]
        for (name, key) in SysctlSimSubject.scopeKeys {
            entries[name] = (try? await sandbox.kernel.read(key, in: sandbox.scope)).map(SysctlValue.normalized)
        }
        return ScopeSnapshot(entries)
    }

    public func makeForeignState(in sandbox: KernelSandbox, avoiding desired: SysctlDesiredState, using random: inout SimRandom)
        async throws -> [String: String]
    {
        try FlatKeyDraws.foreignWrites(from: SysctlSimSubject.foreignKeys, using: &random) { key, text in
            try sandbox.namespace.setSysctl(key, text)
            return SysctlValue.normalized(try sandbox.namespace.sysctl(key))
        }
    }

    public func drift(in sandbox: KernelSandbox, desired: SysctlDesiredState, using random: inout SimRandom)
        async throws -> Drift<String, String>
    {
        try await FlatKeyDraws.drift(
            desired: desired.values, table: SysctlSimSubject.desirable, text: \.text, using: &random,
            write: { key, value in try sandbox.namespace.setSysctl(key, value) },
            foreign: { try await makeForeignState(in: sandbox, avoiding: desired, using: &$0) })
    }
}
