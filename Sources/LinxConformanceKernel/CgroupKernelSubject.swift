import LinxConformance
import LinxKernelSim
import LinxLinux
import LinxReconcile
import LinxTestSupport

/// The built-in subject for ``CgroupSource`` on the real kernel, root only:
/// each case in a throwaway child of the cgroup2 mount, plus a throwaway
/// sibling for foreign state. A child with no controllers enabled has only
/// the core files, so desired states use `cgroup.max.depth` and
/// `cgroup.max.descendants`, and foreign writers `cgroup.freeze` (harmless:
/// the cgroup holds no process) and the sibling. No fault injection; the
/// mutation journal counts the writes the Source sends (``WriteJournal``).
package struct CgroupKernelSubject: ConformanceSubject {
    public typealias Source = CgroupSource
    public typealias EntryKey = String
    public typealias EntryValue = String

    /// The cgroup under test, its sibling, and a backend.
    public struct Sandbox: Sendable {
        public let cgroup: ThrowawayCgroup
        public let sibling: ThrowawayCgroup
        public let kernel: LinuxKernel
        /// The writes the Source under test sent (its mutation journal).
        let journal = WriteJournal()
        public var path: String { cgroup.unified ?? "" }
        public var siblingPath: String { sibling.unified ?? "" }
    }

    static let desirable = ["cgroup.max.depth", "cgroup.max.descendants"]
    static let foreignFile = "cgroup.freeze"

    public init() {}

    public var name: String { "cgroup/kernel" }
    public var unavailableReason: String? { KernelSandbox.unavailableReason(name) }
    public var capabilities: Set<SubjectCapability> { [.mutationJournal] }
    public var emptyDesired: CgroupDesiredState { .empty }
    public var emptyLastApplied: CgroupLastApplied { .empty }

    public func makeSandbox(seed: UInt64) async throws -> Sandbox {
        try KernelSandbox.requireRoot(name)
        let cgroup: ThrowawayCgroup
        let sibling: ThrowawayCgroup
        do {
            cgroup = try ThrowawayCgroup.create()
            do { sibling = try ThrowawayCgroup.create() } catch {
                cgroup.remove()
                throw error
            }
        } catch {
            throw ConformanceSkip("\(name): cannot make a throwaway cgroup here: \(error)")
        }
        guard cgroup.unified != nil, sibling.unified != nil else {
            cgroup.remove()
            sibling.remove()
            throw ConformanceSkip("\(name): this machine has no cgroup2 mount")
        }
        return Sandbox(cgroup: cgroup, sibling: sibling, kernel: LinuxKernel())
    }

    public func tearDown(_ sandbox: Sandbox) async {
        sandbox.cgroup.remove()
        sandbox.sibling.remove()
    }

    public func source(for sandbox: Sandbox) -> CgroupSource {
        CgroupSource(backend: JournaledCgroupBackend(base: sandbox.kernel, journal: sandbox.journal))
    }
    public func mutationStamp(of sandbox: Sandbox) async throws -> MutationStamp? { sandbox.journal.stamp }
    public func scope(of sandbox: Sandbox) -> String { sandbox.path }
    public func options(for sandbox: Sandbox) -> CgroupOptions { .default }

    public func validDesired(in sandbox: Sandbox, using random: inout SimRandom) -> CgroupDesiredState {
        var files: [String: CgroupValue] = [:]
        for file in Self.desirable where files.isEmpty || random.chance(0.5) {
            files[file] = random.chance(0.2) ? .max : .integer(random.int(in: 1...64))
        }
        return CgroupDesiredState(files)
    }

    public func invalidDesired(in sandbox: Sandbox) -> [InvalidDesired<CgroupDesiredState>] {
        [
            InvalidDesired("a file name with a '/'", ["../cgroup.max.depth": 1]),
            InvalidDesired("an empty file name", ["": 1, "cgroup.max.depth": 3]),
            InvalidDesired("a file the cgroup does not have", ["memory.nosuch": 1, "cgroup.max.depth": 4]),
        ]
    }

    public func expectedEntries(for desired: CgroupDesiredState, in sandbox: Sandbox) -> [String: String] {
        CgroupSimSubject.expectedEntries(for: desired)
    }

    public func effect(of op: ReconcileOp<CgroupSetting>, in sandbox: Sandbox) -> OpEffect<String, String> {
        CgroupSimSubject.effect(of: op)
    }

    public func release(from desired: CgroupDesiredState, in sandbox: Sandbox, using random: inout SimRandom)
        -> Release<CgroupDesiredState, String, String>?
    {
        CgroupSimSubject.release(from: desired, using: &random)
    }

    public func ownedEntries(in lastApplied: CgroupLastApplied, in sandbox: Sandbox) -> Set<String>? {
        lastApplied.files
    }

    public func snapshot(of sandbox: Sandbox) async throws -> ScopeSnapshot<String, String> {
        var entries: [String: String] = [:]
        for file in Self.desirable + [Self.foreignFile] {
            entries[file] = try? await sandbox.kernel.read(file, in: sandbox.path)
            entries["sibling: \(file)"] = try? await sandbox.kernel.read(file, in: sandbox.siblingPath)
        }
        return ScopeSnapshot(entries)
    }

    public func makeForeignState(in sandbox: Sandbox, avoiding desired: CgroupDesiredState, using random: inout SimRandom)
        async throws -> [String: String]
    {
        try await sandbox.kernel.write(Self.foreignFile, value: random.pick(["0", "1"]), in: sandbox.path)
        let file = random.pick(Self.desirable)
        try await sandbox.kernel.write(file, value: String(random.int(in: 1...64)), in: sandbox.siblingPath)
        return [
            Self.foreignFile: try await sandbox.kernel.read(Self.foreignFile, in: sandbox.path),
            "sibling: \(file)": try await sandbox.kernel.read(file, in: sandbox.siblingPath),
        ]
    }

    public func drift(in sandbox: Sandbox, desired: CgroupDesiredState, using random: inout SimRandom)
        async throws -> Drift<String, String>
    {
        guard let file = desired.files.keys.sorted().randomElement(using: &random) else { return Drift("nothing to drift") }
        let value = String(random.int(in: 65...128))
        try await sandbox.kernel.write(file, value: value, in: sandbox.path)
        let added = try await makeForeignState(in: sandbox, avoiding: desired, using: &random)
        return Drift("\(file) = \(value), plus foreign writes", addedForeign: added)
    }
}
