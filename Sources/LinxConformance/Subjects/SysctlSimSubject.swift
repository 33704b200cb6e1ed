import LinxKernelSim
import LinxReconcile

/// The built-in subject for ``/LinxReconcile/SysctlSource`` on the simulated kernel, with
/// `revertOnRelease` on (so a release is visible: the original comes back).
///
/// Each case gets a fresh kernel with a namespace holding `eth0` and `eth1`.
/// Desired states draw from one set of keys, foreign writers from another,
/// so they never share a key; snapshots also cover the host namespace's
/// copies of the desired keys, to catch a write that leaks out of the scope.
public struct SysctlSimSubject: ConformanceSubject {
    public typealias Source = SysctlSource
    public typealias Sandbox = SimSandbox<NetnsScope>
    public typealias EntryKey = String
    public typealias EntryValue = String

    static let namespace = NetnsScope.named("linx-conformance")

    /// Keys desired states use, each with a generator of valid values.
    package static let desirable: FlatKeyTable<SysctlValue> = [
        ("net.ipv4.ip_default_ttl", { .integer($0.int(in: 1...255)) }),
        ("net.ipv4.tcp_fin_timeout", { .integer($0.int(in: 1...120)) }),
        ("net.ipv4.tcp_keepalive_time", { .integer($0.int(in: 60...7200)) }),
        ("net.ipv4.ip_unprivileged_port_start", { .integer($0.int(in: 0...2048)) }),
        ("net.core.somaxconn", { .integer($0.int(in: 128...8192)) }),
        ("net.ipv4.ip_local_port_range", { r in
            let low = r.int(in: 1024...30000)
            return .string("\(low) \(low + r.int(in: 100...30000))")
        }),
        ("net.ipv4.conf.eth0.rp_filter", { .integer($0.int(in: 0...2)) }),
        ("net.ipv4.conf.eth0.arp_ignore", { .integer($0.int(in: 0...2)) }),
        ("net.ipv4.conf.eth0.log_martians", { .integer($0.int(in: 0...1)) }),
        ("net.ipv6.conf.eth0.hop_limit", { .integer($0.int(in: 1...255)) }),
        ("net.ipv6.conf.eth0.accept_ra", { .integer($0.int(in: 0...2)) }),
    ]

    /// Keys only foreign writers use.
    package static let foreignKeys: FlatKeyTable<String> = [
        ("net.ipv4.tcp_syncookies", { String($0.int(in: 0...2)) }),
        ("net.ipv4.icmp_echo_ignore_all", { String($0.int(in: 0...1)) }),
        ("net.ipv4.ip_nonlocal_bind", { String($0.int(in: 0...1)) }),
        ("net.unix.max_dgram_qlen", { String($0.int(in: 10...1000)) }),
        ("net.ipv4.conf.eth1.rp_filter", { String($0.int(in: 0...2)) }),
        ("net.ipv4.conf.eth1.arp_announce", { String($0.int(in: 0...2)) }),
        ("net.ipv6.conf.eth1.hop_limit", { String($0.int(in: 1...255)) }),
    ]

    public init() {}

    public var name: String { "sysctl/sim" }
    public var capabilities: Set<SubjectCapability> { [.faultInjection, .mutationJournal] }
    public var emptyDesired: SysctlDesiredState { .empty }
    public var emptyLastApplied: SysctlLastApplied { .empty }

    public func makeSandbox(seed: UInt64) async throws -> Sandbox {
        SimSandbox(kernel: SimKernel(copying: Self.template.kernel, seed: seed), scope: Self.namespace, boot: Self.template.boot)
    }

    /// The kernel every sandbox starts from (booted, the namespace and its
    /// two links made; seedless, so one serves every seed) and the boot values
    /// of the desired keys in it.
    private static let template: (kernel: SimKernel, boot: [String: String]) = {
        let kernel = SimKernel(seed: 0)
        try! kernel.createNamespace(namespace)
        for link in ["eth0", "eth1"] { try! kernel.addLink(link, kind: "veth", up: true, in: namespace) }
        var boot: [String: String] = [:]
        for key in desirable.map(\.key) {
            boot[key] = kernel.sysctlValue(key, in: namespace).map(SysctlValue.normalized)
        }
        return (kernel, boot)
    }()

    public func tearDown(_ sandbox: Sandbox) async {}

    public func source(for sandbox: Sandbox) -> SysctlSource { SysctlSource(backend: sandbox.kernel) }
    public func scope(of sandbox: Sandbox) -> NetnsScope { sandbox.scope }
    public func options(for sandbox: Sandbox) -> SysctlOptions { SysctlOptions(revertOnRelease: true) }

    public func validDesired(in sandbox: Sandbox, using random: inout SimRandom) -> SysctlDesiredState {
        Self.validDesired(using: &random) { key in sandbox.kernel.sysctlValue(key, in: sandbox.scope) }
    }

    /// A desired state of one to five keys from ``desirable`` (shared with
    /// the kernel subject), fitted to the kernel's rule that the unprivileged
    /// port start never exceeds the local port range's low end
    /// (``fitPortPair(_:held:)``). `held` reads what the scope holds now.
    package static func validDesired(using random: inout SimRandom, held: (String) -> String?) -> SysctlDesiredState {
        var values = FlatKeyDraws.desired(from: desirable, count: 1...5, using: &random)
        fitPortPair(&values, held: held)
        return SysctlDesiredState(values)
    }

    /// Makes a drawn desired state one the kernel can hold next to what the
    /// scope holds, drawing nothing (so every other seed keeps its meaning).
    ///
    /// The kernel refuses a start above the range's low end, whichever is
    /// written (`ipv4_privileged_ports`, `ipv4_local_port_range`): with both
    /// drawn, the start is capped at the low end (drawn independently, the
    /// pair made states no kernel can hold: the fuzzer's first sysctl
    /// non-convergence). With only one drawn, the other is a value the Source
    /// does not own (or is releasing) and must not touch: a desired range
    /// whose low end is below the start the scope holds, or a desired start
    /// above the range's held low end, could never be held (the fuzzer's
    /// sibling 2: a start drifted to 1922 was written back on release, then a
    /// range from 1749 was desired and refused EINVAL on every pass). So the
    /// range's low end is raised to the held start (its high end with it
    /// when needed), and the start capped at the held low end. A released
    /// partner's write-back is no obstacle: the Source drops a write-back
    /// the kernel would refuse next to the desired value, and the held value
    /// already fits.
    package static func fitPortPair(_ values: inout [String: SysctlValue], held: (String) -> String?) {
        let heldStart = held(portStart).flatMap(firstField)
        let heldLow = held(portRange).flatMap(firstField)
        switch (values[portStart], values[portRange]) {
        case (.integer(let start)?, let range?):
            if let low = firstField(range.text), start > low { values[portStart] = .integer(low) }
        case (.integer(let start)?, nil):
            if let heldLow, start > heldLow { values[portStart] = .integer(heldLow) }
        case (nil, let range?):
            let bounds = SysctlValue.normalized(range.text).split(separator: " ").compactMap { Int($0) }
            if let heldStart, bounds.count == 2, bounds[0] < heldStart {
                values[portRange] = .string("\(heldStart) \(max(bounds[1], heldStart))")
            }
        default:
            break
        }
    }

    /// The first whitespace-separated field as an integer: the start itself,
    /// the range's low end.
    private static func firstField(_ text: String) -> Int? {
        SysctlValue.normalized(text).split(separator: " ").first.flatMap { Int($0) }
    }

    package static let portStart = "net.ipv4.ip_unprivileged_port_start"
    package static let portRange = "net.ipv4.ip_local_port_range"

    public func invalidDesired(in sandbox: Sandbox) -> [InvalidDesired<SysctlDesiredState>] {
        [
            InvalidDesired("a key that escapes /proc/sys", ["net/../../etc/passwd": 1]),
            InvalidDesired("a key that does not exist", ["net.ipv4.no_such_key": 1]),
            InvalidDesired("an empty key", ["": 1, "net.ipv4.ip_default_ttl": 33]),
            InvalidDesired(
                "the same key dotted and slashed with different values",
                ["net.ipv4.ip_default_ttl": 61, "net/ipv4/ip_default_ttl": 62]),
            InvalidDesired("a host-wide key from a non-current namespace", ["kernel.hostname": "oops"]),
            InvalidDesired(
                "an unprivileged port start above the local port range's low end",
                [Self.portStart: 1417, Self.portRange: "1046 23567"]),
        ]
    }

    public func expectedEntries(for desired: SysctlDesiredState, in sandbox: Sandbox) -> [String: String] {
        Self.expectedEntries(for: desired)
    }

    /// What the kernel holds once `desired` is applied, keyed by canonical
    /// dotted name (shared with the kernel subject).
    package static func expectedEntries(for desired: SysctlDesiredState) -> [String: String] {
        var entries: [String: String] = [:]
        for (text, value) in desired.values {
            guard let key = try? SysctlKey(text) else { continue }
            entries[key.description] = SysctlValue.normalized(value.text)
        }
        return entries
    }

    public func effect(of op: ReconcileOp<SysctlSetting>, in sandbox: Sandbox) -> OpEffect<String, String> {
        Self.effect(of: op)
    }

    /// What one op does to the snapshot (shared with the kernel subject).
    package static func effect(of op: ReconcileOp<SysctlSetting>) -> OpEffect<String, String> {
        switch op {
        case .create(let setting), .update(let setting, _):
            OpEffect(sets: [setting.key.description: SysctlValue.normalized(setting.value)])
        case .delete(let setting):
            // A release writes back the original, which only the ownership record knows.
            OpEffect(mayChange: [setting.key.description])
        }
    }

    public func release(from desired: SysctlDesiredState, in sandbox: Sandbox, using random: inout SimRandom)
        -> Release<SysctlDesiredState, String, String>?
    {
        Self.release(from: desired, boot: sandbox.boot, using: &random)
    }

    /// Releases one key of `desired`: with `revertOnRelease` the key goes
    /// back to its `boot` value (shared with the kernel subject).
    package static func release(from desired: SysctlDesiredState, boot: [String: String], using random: inout SimRandom)
        -> Release<SysctlDesiredState, String, String>?
    {
        guard let (text, rest) = FlatKeyDraws.release(from: desired.values, using: &random) else { return nil }
        let key = (try? SysctlKey(text))?.description ?? text
        return Release(text, desired: SysctlDesiredState(rest), expected: [key: boot[key]])
    }

    /// The keys snapshots read, parsed once.
    package static let scopeKeys: [(name: String, key: SysctlKey)] = (desirable.map(\.key) + foreignKeys.map(\.key))
        .compactMap { name in (try? SysctlKey(name)).map { (name, $0) } }
    static let hostKeys: [(name: String, key: SysctlKey)] = scopeKeys
        .filter { entry in !entry.name.contains(".conf.") && desirable.contains { $0.key == entry.name } }
        .map { ("host: \($0.name)", $0.key) }

    private static let scopeKeyList = scopeKeys.map(\.key)
    private static let hostKeyList = hostKeys.map(\.key)

    public func snapshot(of sandbox: Sandbox) async throws -> ScopeSnapshot<String, String> {
        var entries: [String: String] = [:]
        entries.reserveCapacity(Self.scopeKeys.count + Self.hostKeys.count)
        let scopeValues = sandbox.kernel.sysctlValues(Self.scopeKeyList, in: sandbox.scope)
        for ((name, _), value) in zip(Self.scopeKeys, scopeValues) { entries[name] = value.map(SysctlValue.normalized) }
        let hostValues = sandbox.kernel.sysctlValues(Self.hostKeyList, in: .current)
        for ((name, _), value) in zip(Self.hostKeys, hostValues) { entries[name] = value.map(SysctlValue.normalized) }
        return ScopeSnapshot(entries)
    }

    public func makeForeignState(in sandbox: Sandbox, avoiding desired: SysctlDesiredState, using random: inout SimRandom)
        async throws -> [String: String]
    {
        try FlatKeyDraws.foreignWrites(from: Self.foreignKeys, using: &random) { key, text in
            try sandbox.kernel.foreign.writeSysctl(key, text, in: sandbox.scope)
            return sandbox.kernel.sysctlValue(key, in: sandbox.scope).map(SysctlValue.normalized)
        }
    }

    public func drift(in sandbox: Sandbox, desired: SysctlDesiredState, using random: inout SimRandom)
        async throws -> Drift<String, String>
    {
        try await FlatKeyDraws.drift(
            desired: desired.values, table: Self.desirable, text: \.text, using: &random,
            write: { key, value in try sandbox.kernel.foreign.writeSysctl(key, value, in: sandbox.scope) },
            foreign: { try await makeForeignState(in: sandbox, avoiding: desired, using: &$0) })
    }

    public func ownedEntries(in lastApplied: SysctlLastApplied, in sandbox: Sandbox) -> Set<String>? {
        Self.ownedEntries(in: lastApplied)
    }

    /// The owned keys, by the canonical names snapshots use (shared with the kernel subject).
    package static func ownedEntries(in lastApplied: SysctlLastApplied) -> Set<String> {
        Set(lastApplied.owned.keys.map(\.description))
    }

    /// The kernel's history counts every write the Source sent.
    public func mutationStamp(of sandbox: Sandbox) async throws -> MutationStamp? {
        MutationStamp.backendWrites(of: sandbox.kernel)
    }

    public func injectFaults(in sandbox: Sandbox, using random: inout SimRandom) async throws {
        sandbox.kernel.failFraction(0.25, of: .sysctlWrite, with: random.pick([.resourceBusy, .ioError]))
        sandbox.kernel.failFraction(0.05, of: .sysctlRead, with: .ioError)
    }

    public func stopFaults(in sandbox: Sandbox) async throws {
        sandbox.kernel.clearFaults()
    }
}
