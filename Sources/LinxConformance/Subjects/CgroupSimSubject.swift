import LinxKernelSim
import LinxReconcile

/// The built-in subject for ``/LinxReconcile/CgroupSource`` on the simulated kernel.
///
/// Each case gets a fresh kernel with the cgroup under test and a sibling.
/// Desired states draw from the memory, pids and cpu limits; foreign writers
/// use the other interface files and the sibling, so the two never share a
/// file. A release puts a file back to its default, as the Source does.
public struct CgroupSimSubject: ConformanceSubject {
    public typealias Source = CgroupSource
    public typealias Sandbox = SimSandbox<String>
    public typealias EntryKey = String
    public typealias EntryValue = String

    static let cgroup = "/sys/fs/cgroup/linx-conformance"
    static let sibling = "/sys/fs/cgroup/linx-conformance-sibling"

    /// Files desired states use, each with a generator of valid values.
    static let desirable: FlatKeyTable<CgroupValue> = [
        ("memory.max", { r in r.chance(0.2) ? .max : .integer(r.int(in: 1...4096) * 65_536 + r.below(4096)) }),
        ("memory.high", { r in r.chance(0.2) ? .max : .integer(r.int(in: 1...4096) * 65_536) }),
        ("memory.low", { .integer($0.int(in: 0...1024) * 4096) }),
        ("pids.max", { r in r.chance(0.2) ? .max : .integer(r.int(in: 1...100_000)) }),
        ("cpu.max", { r in .cpuMax(quota: r.chance(0.2) ? nil : r.int(in: 1000...200_000), period: r.pick([100_000, 50_000])) }),
        ("cpu.weight", { .integer($0.int(in: 1...10_000)) }),
    ]

    /// Files only foreign writers use.
    static let foreignFiles: FlatKeyTable<String> = [
        ("cgroup.max.depth", { String($0.int(in: 1...64)) }),
        ("cgroup.max.descendants", { String($0.int(in: 1...1000)) }),
        ("memory.min", { String($0.int(in: 0...256) * 4096) }),
        ("memory.swap.max", { r in r.chance(0.3) ? "max" : String(r.int(in: 0...1024) * 4096) }),
    ]

    public init() {}

    public var name: String { "cgroup/sim" }
    public var capabilities: Set<SubjectCapability> { [.faultInjection, .mutationJournal] }
    public var emptyDesired: CgroupDesiredState { .empty }
    public var emptyLastApplied: CgroupLastApplied { .empty }

    public func makeSandbox(seed: UInt64) async throws -> Sandbox {
        let kernel = SimKernel(seed: seed)
        try kernel.createCgroup(Self.cgroup)
        try kernel.createCgroup(Self.sibling)
        return SimSandbox(kernel: kernel, scope: Self.cgroup)
    }

    public func tearDown(_ sandbox: Sandbox) async {}

    public func source(for sandbox: Sandbox) -> CgroupSource { CgroupSource(backend: sandbox.kernel) }
    public func scope(of sandbox: Sandbox) -> String { sandbox.scope }
    public func options(for sandbox: Sandbox) -> CgroupOptions { .default }

    public func validDesired(in sandbox: Sandbox, using random: inout SimRandom) -> CgroupDesiredState {
        CgroupDesiredState(FlatKeyDraws.desired(from: Self.desirable, count: 1...4, using: &random))
    }

    public func invalidDesired(in sandbox: Sandbox) -> [InvalidDesired<CgroupDesiredState>] {
        [
            InvalidDesired("a file name with a '/'", ["../memory.max": 1_048_576]),
            InvalidDesired("an empty file name", ["": 1, "pids.max": 10]),
            InvalidDesired("a file name with '..'", ["..": 1]),
            InvalidDesired("a file the cgroup does not have", ["memory.nosuch": 1, "pids.max": 12]),
        ]
    }

    public func expectedEntries(for desired: CgroupDesiredState, in sandbox: Sandbox) -> [String: String] {
        Self.expectedEntries(for: desired)
    }

    /// What the files hold once `desired` is applied, as the kernel stores
    /// them (shared with the kernel subject).
    package static func expectedEntries(for desired: CgroupDesiredState) -> [String: String] {
        var entries: [String: String] = [:]
        for (file, value) in desired.files { entries[file] = CgroupFileRules.stored(value.text, in: file) }
        return entries
    }

    public func effect(of op: ReconcileOp<CgroupSetting>, in sandbox: Sandbox) -> OpEffect<String, String> {
        Self.effect(of: op)
    }

    /// What one op does to the snapshot: a release writes the file's default
    /// back, when it has one (shared with the kernel subject).
    package static func effect(of op: ReconcileOp<CgroupSetting>) -> OpEffect<String, String> {
        switch op {
        case .create(let setting), .update(let setting, _):
            return OpEffect(sets: [setting.file: CgroupFileRules.stored(setting.value, in: setting.file)])
        case .delete(let setting):
            guard let value = CgroupFileRules.defaultValue(of: setting.file) else {
                return OpEffect(mayChange: [setting.file])
            }
            return OpEffect(sets: [setting.file: CgroupFileRules.stored(value, in: setting.file)])
        }
    }

    public func release(from desired: CgroupDesiredState, in sandbox: Sandbox, using random: inout SimRandom)
        -> Release<CgroupDesiredState, String, String>?
    {
        Self.release(from: desired, using: &random)
    }

    /// Releases one file of `desired`, which goes back to its default
    /// (shared with the kernel subject).
    package static func release(from desired: CgroupDesiredState, using random: inout SimRandom)
        -> Release<CgroupDesiredState, String, String>?
    {
        guard let (file, rest) = FlatKeyDraws.release(from: desired.files, using: &random) else { return nil }
        let back = CgroupFileRules.defaultValue(of: file).map { CgroupFileRules.stored($0, in: file) }
        return Release(file, desired: CgroupDesiredState(rest), expected: [file: back])
    }

    public func snapshot(of sandbox: Sandbox) async throws -> ScopeSnapshot<String, String> {
        var entries: [String: String] = [:]
        let files = Self.desirable.map(\.key) + Self.foreignFiles.map(\.key)
        for file in files {
            entries[file] = sandbox.kernel.cgroupValue(file, in: sandbox.scope)
            entries["sibling: \(file)"] = sandbox.kernel.cgroupValue(file, in: Self.sibling)
        }
        return ScopeSnapshot(entries)
    }

    public func makeForeignState(in sandbox: Sandbox, avoiding desired: CgroupDesiredState, using random: inout SimRandom)
        async throws -> [String: String]
    {
        var made = try FlatKeyDraws.foreignWrites(from: Self.foreignFiles, using: &random) { file, text in
            try sandbox.kernel.foreign.writeCgroup(file, text, in: sandbox.scope)
            return sandbox.kernel.cgroupValue(file, in: sandbox.scope)
        }
        let (file, value) = random.pick(Self.desirable)
        try sandbox.kernel.foreign.writeCgroup(file, value(&random).text, in: Self.sibling)
        made["sibling: \(file)"] = sandbox.kernel.cgroupValue(file, in: Self.sibling)
        return made
    }

    public func drift(in sandbox: Sandbox, desired: CgroupDesiredState, using random: inout SimRandom)
        async throws -> Drift<String, String>
    {
        try await FlatKeyDraws.drift(
            desired: desired.files, table: Self.desirable, text: \.text, using: &random,
            write: { file, value in try sandbox.kernel.foreign.writeCgroup(file, value, in: sandbox.scope) },
            foreign: { try await makeForeignState(in: sandbox, avoiding: desired, using: &$0) })
    }

    public func ownedEntries(in lastApplied: CgroupLastApplied, in sandbox: Sandbox) -> Set<String>? {
        lastApplied.files
    }

    /// The kernel's history counts every write the Source sent.
    public func mutationStamp(of sandbox: Sandbox) async throws -> MutationStamp? {
        MutationStamp.backendWrites(of: sandbox.kernel)
    }

    public func injectFaults(in sandbox: Sandbox, using random: inout SimRandom) async throws {
        sandbox.kernel.failFraction(0.25, of: .cgroupWrite, with: random.pick([.resourceBusy, .ioError]))
        sandbox.kernel.failFraction(0.05, of: .cgroupRead, with: .ioError)
    }

    public func stopFaults(in sandbox: Sandbox) async throws {
        sandbox.kernel.clearFaults()
    }
}
