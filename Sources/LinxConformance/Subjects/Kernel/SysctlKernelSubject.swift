import LinxKernelSim
import LinxLinux
import LinxReconcile

/// The built-in subject for ``SysctlSource`` on the real kernel, root only:
/// each case in a throwaway namespace, `revertOnRelease` on, the same keys
/// as ``SysctlSimSubject`` (all isolated by network namespaces, so the host
/// is never written). No fault injection.
public struct SysctlKernelSubject: ConformanceSubject {
    public typealias Source = SysctlSource
    public typealias Sandbox = KernelSandbox
    public typealias EntryKey = String
    public typealias EntryValue = String

    public init() {}

    public var name: String { "sysctl/kernel" }
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

    public func source(for sandbox: KernelSandbox) -> SysctlSource { SysctlSource(backend: sandbox.kernel) }
    public func scope(of sandbox: KernelSandbox) -> NetnsScope { sandbox.scope }
    public func options(for sandbox: KernelSandbox) -> SysctlOptions { SysctlOptions(revertOnRelease: true) }

    public func validDesired(in sandbox: KernelSandbox, using random: inout SimRandom) -> SysctlDesiredState {
        var values: [String: SysctlValue] = [:]
        for _ in 0..<random.int(in: 1...5) {
            let (key, value) = random.pick(SysctlSimSubject.desirable)
            values[key] = value(&random)
        }
        return SysctlDesiredState(values)
    }

    public func invalidDesired(in sandbox: KernelSandbox) -> [InvalidDesired<SysctlDesiredState>] {
        [
            InvalidDesired("a key that escapes /proc/sys", ["net/../../etc/passwd": 1]),
            InvalidDesired("a key that does not exist", ["net.ipv4.no_such_key": 1]),
            InvalidDesired(
                "the same key dotted and slashed with different values",
                ["net.ipv4.ip_default_ttl": 61, "net/ipv4/ip_default_ttl": 62]),
            InvalidDesired("a host-wide key from a non-current namespace", ["kernel.hostname": "oops"]),
        ]
    }

    public func expectedEntries(for desired: SysctlDesiredState, in sandbox: KernelSandbox) -> [String: String] {
        var entries: [String: String] = [:]
        for (text, value) in desired.values {
            guard let key = try? SysctlKey(text) else { continue }
            entries[key.description] = SysctlValue.normalized(value.text)
        }
        return entries
    }

    public func effect(of op: ReconcileOp<SysctlSetting>, in sandbox: KernelSandbox) -> OpEffect<String, String> {
        switch op {
        case .create(let setting), .update(let setting, _):
            OpEffect(sets: [setting.key.description: SysctlValue.normalized(setting.value)])
        case .delete(let setting):
            OpEffect(mayChange: [setting.key.description])
        }
    }

    public func release(from desired: SysctlDesiredState, in sandbox: KernelSandbox, using random: inout SimRandom)
        -> Release<SysctlDesiredState, String, String>?
    {
        guard !desired.values.isEmpty else { return nil }
        let text = random.pick(desired.values.keys.sorted())
        var rest = desired.values
        rest[text] = nil
        let key = (try? SysctlKey(text))?.description ?? text
        return Release(text, desired: SysctlDesiredState(rest), expected: [key: sandbox.boot[key]])
    }

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
        var made: [String: String] = [:]
        for _ in 0..<random.int(in: 1...3) {
            let (key, value) = random.pick(SysctlSimSubject.foreignKeys)
            try sandbox.namespace.setSysctl(key, value(&random))
            made[key] = SysctlValue.normalized(try sandbox.namespace.sysctl(key))
        }
        return made
    }

    public func drift(in sandbox: KernelSandbox, desired: SysctlDesiredState, using random: inout SimRandom)
        async throws -> Drift<String, String>
    {
        var labels: [String] = []
        var added: [String: String] = [:]
        for _ in 0..<random.int(in: 1...3) {
            if random.chance(0.7), let text = desired.values.keys.sorted().randomElement(using: &random),
                let generator = SysctlSimSubject.desirable.first(where: { $0.key == text })?.value
            {
                let value = generator(&random).text
                try sandbox.namespace.setSysctl(text, value)
                labels.append("\(text) = \(value)")
            } else {
                let made = try await makeForeignState(in: sandbox, avoiding: desired, using: &random)
                added.merge(made) { _, new in new }
                labels.append("foreign \(made.keys.sorted().joined(separator: ", "))")
            }
        }
        return Drift(labels.joined(separator: "; "), addedForeign: added)
    }
}
