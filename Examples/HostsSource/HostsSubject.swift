import LinxConformance

/// The conformance subject for ``HostsSource``: what the suite needs to know
/// about the hosts store to test any Source of it. Copy this file as the
/// template for your own subject.
///
/// Each case gets a fresh ``HostsFile`` holding the boot entries; the
/// subject looks at it and disturbs it through the store's direct API,
/// never through the Source.
public struct HostsSubject: ConformanceSubject {
    public typealias Source = HostsSource
    public typealias Sandbox = HostsFile
    public typealias EntryKey = String
    public typealias EntryValue = String

    public init() {}

    public var name: String { "hosts" }
    public var capabilities: Set<SubjectCapability> {
        [.faultInjection, .monitorTriggers, .overflowTrigger, .mutationJournal]
    }
    public var emptyDesired: [HostsEntry] { [] }
    public var emptyLastApplied: Set<String> { [] }

    public func makeSandbox(seed: UInt64) async throws -> HostsFile {
        HostsFile(entries: ["localhost": "127.0.0.1", "ip6-localhost": "::1"])
    }

    public func tearDown(_ sandbox: HostsFile) async {}

    public func source(for sandbox: HostsFile) -> HostsSource { HostsSource() }
    public func scope(of sandbox: HostsFile) -> HostsFile { sandbox }
    public func options(for sandbox: HostsFile) -> HostsSource.Options { .init() }

    public func validDesired(in sandbox: HostsFile, using random: inout SimRandom) -> [HostsEntry] {
        var names = Set<Int>()
        let count = random.int(in: 1...8)
        while names.count < count { names.insert(random.below(40)) }
        return names.sorted().map { HostsEntry("svc\($0).example", Self.address(using: &random)) }
    }

    public func invalidDesired(in sandbox: HostsFile) -> [InvalidDesired<[HostsEntry]>] {
        [
            InvalidDesired("address is not an IP address", [HostsEntry("web.example", "10.0.0.300")]),
            InvalidDesired("empty host name", [HostsEntry("ok.example", "10.0.0.1"), HostsEntry("", "10.0.0.2")]),
            InvalidDesired("host name with a space", [HostsEntry("web server", "10.0.0.3")]),
            InvalidDesired(
                "the same name twice with different addresses",
                [HostsEntry("db.example", "10.0.0.4"), HostsEntry("db.example", "10.0.0.5")]),
        ]
    }

    public func expectedEntries(for desired: [HostsEntry], in sandbox: HostsFile) -> [String: String] {
        Dictionary(desired.map { ($0.name, Self.canonical($0.address)) }, uniquingKeysWith: { first, _ in first })
    }

    public func effect(of op: ReconcileOp<HostsEntry>, in sandbox: HostsFile) -> OpEffect<String, String> {
        switch op {
        case .create(let entry), .update(let entry, _): OpEffect(sets: [entry.name: Self.canonical(entry.address)])
        case .delete(let entry): OpEffect(removes: [entry.name])
        }
    }

    /// lastApplied is the set of owned names, which are the snapshot's keys.
    public func ownedEntries(in lastApplied: Set<String>, in sandbox: HostsFile) -> Set<String>? {
        lastApplied
    }

    /// Desired names live under `.example` and nothing else writes there, so
    /// an `.example` name the desired state does not list must be gone.
    public func mustBeAbsent(_ key: String, value: String, when desired: [HostsEntry], in sandbox: HostsFile) -> Bool {
        key.hasSuffix(".example") && !desired.contains { $0.name == key }
    }

    /// The store counts every write, so a rewrite of the same bytes shows.
    public func mutationStamp(of sandbox: HostsFile) async throws -> MutationStamp? {
        MutationStamp(writes: sandbox.writeCount)
    }

    public func release(from desired: [HostsEntry], in sandbox: HostsFile, using random: inout SimRandom)
        -> Release<[HostsEntry], String, String>?
    {
        guard !desired.isEmpty else { return nil }
        var rest = desired
        let gone = rest.remove(at: random.below(rest.count))
        return Release(gone.name, desired: rest, expected: [gone.name: nil])
    }

    public func snapshot(of sandbox: HostsFile) async throws -> ScopeSnapshot<String, String> {
        ScopeSnapshot(sandbox.directContents)
    }

    public func makeForeignState(in sandbox: HostsFile, avoiding desired: [HostsEntry], using random: inout SimRandom)
        async throws -> [String: String]
    {
        // Foreign names live under .lan, desired ones under .example: disjoint by construction.
        var made: [String: String] = [:]
        for _ in 0..<random.int(in: 1...4) {
            let name = "host\(random.below(1000)).lan"
            let address = Self.address(using: &random)
            sandbox.directWrite(name, address)
            made[name] = address
        }
        return made
    }

    public func drift(in sandbox: HostsFile, desired: [HostsEntry], using random: inout SimRandom)
        async throws -> Drift<String, String>
    {
        var labels: [String] = []
        var added: [String: String] = [:]
        for _ in 0..<random.int(in: 1...3) {
            let victim = random.pick(desired)
            switch random.below(3) {
            case 0:
                sandbox.directWrite(victim.name, nil)
                labels.append("deleted \(victim.name)")
            case 1:
                let address = Self.address(using: &random)
                sandbox.directWrite(victim.name, address)
                labels.append("changed \(victim.name) to \(address)")
            default:
                let name = "drift\(random.below(1000)).lan"
                let address = Self.address(using: &random)
                sandbox.directWrite(name, address)
                added[name] = address
                labels.append("added \(name)")
            }
        }
        return Drift(labels.joined(separator: ", "), addedForeign: added)
    }

    public func injectFaults(in sandbox: HostsFile, using random: inout SimRandom) async throws {
        sandbox.injectFaults(rate: 0.25, seed: random.next())
    }

    public func stopFaults(in sandbox: HostsFile) async throws {
        sandbox.stopFaults()
    }

    public func triggerChange(in sandbox: HostsFile) async throws {
        sandbox.directWrite("trigger.lan", "192.0.2.1")
    }

    public func triggerOverflow(in sandbox: HostsFile) async throws {
        sandbox.overflowWatchers()
    }

    static func address(using random: inout SimRandom) -> String {
        if random.chance(0.8) {
            return "10.\(random.below(256)).\(random.below(256)).\(random.int(in: 1...254))"
        }
        return "fd00::\(String(random.int(in: 1...0xffff), radix: 16))"
    }

    static func canonical(_ address: String) -> String {
        (try? IPAddress(address).description) ?? address
    }
}
