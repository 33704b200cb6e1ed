import LinxConformance
import LinxKernelSim
import LinxReconcile
import Testing

/// The audit's one-sweep checks (op effects without collections, the
/// duplicate check bucketed by entry key, the converged check over the
/// changes when the "before" reading was already verified) against the
/// plain checks they replaced, on generated reports and scopes, honest and
/// not: the same problem lines (as multisets: the plain checks list them
/// in their own order).
@Suite("Audit fast paths")
struct AuditFastPathTests {
    typealias Entry = RtnlEntry
    typealias Value = RtnlValue
    typealias Snapshot = ScopeSnapshot<Entry, Value>
    typealias Report = ReconcileReport<RtnlObject, RtnlLastApplied>

    @Test("one-sweep violations equal the plain checks on generated passes")
    func generatedPasses() async throws {
        let subject = RtnlSimSubject()
        let sandbox = try await subject.makeSandbox(seed: 1)
        var random = SimRandom(seed: 20_261_201)
        var dishonest = 0
        for _ in 0..<3_000 {
            let audit = ReportAudit(subject: subject, sandbox: sandbox)
            let pass = Self.pass(using: &random)
            let fast = audit.violations(
                of: pass.report, desired: .empty, before: pass.before, after: pass.after, quiet: pass.quiet,
                expected: pass.expected)
            let plain = Self.plainViolations(
                subject, sandbox, of: pass.report, before: pass.before, after: pass.after, quiet: pass.quiet,
                expected: pass.expected)
            #expect(fast.sorted() == plain.sorted())
            if !plain.isEmpty { dishonest += 1 }
            #expect(
                ReportAudit<RtnlSimSubject>.shapeViolations(of: pass.report).sorted()
                    == (Self.plainDuplicates(pass.report) + Self.plainStrategy(pass.report)).sorted())
        }
        // Both kinds of pass were drawn.
        #expect(dishonest > 300 && dishonest < 2_900)
    }

    /// A set's order changes with the process's hash seed: unsorted, a
    /// failure's lines read differently on each replay of one scenario.
    @Test("the lines for several keys of one kind come out sorted, whatever the process's hash seed")
    func linesAreSorted() async throws {
        let subject = RtnlSimSubject()
        let sandbox = try await subject.makeSandbox(seed: 1)
        var random = SimRandom(seed: 20_261_202)
        var several = 0
        for _ in 0..<3_000 {
            let pass = Self.pass(using: &random)
            let lines = ReportAudit(subject: subject, sandbox: sandbox).violations(
                of: pass.report, desired: .empty, before: pass.before, after: pass.after, quiet: pass.quiet,
                expected: pass.expected)
            let unexplained = lines.filter { $0.hasSuffix("but no op in the report touches it") }
            #expect(unexplained == unexplained.sorted())
            if unexplained.count >= 2 { several += 1 }
        }
        #expect(several >= 20)
    }

    @Test("the converged check over changes equals the full check along chains of passes")
    func chainedPasses() async throws {
        let subject = RtnlSimSubject()
        let sandbox = try await subject.makeSandbox(seed: 2)
        var random = SimRandom(seed: 77)
        var clean = 0, notConverged = 0, unconverged = 0
        for _ in 0..<300 {
            // One audit per chain, as a case keeps one: it remembers the
            // readings it verified.
            let audit = ReportAudit(subject: subject, sandbox: sandbox)
            let expected = Self.entries(using: &random, count: 6)
            var before = Snapshot(expected.merging(Self.entries(using: &random, count: 3)) { old, _ in old })
            for _ in 0..<12 {
                let after: Snapshot
                switch random.below(4) {
                case 0: after = before  // the subject handed back its last reading
                case 1: after = Snapshot(before.entries)  // a new reading, same entries
                default: after = Self.changed(before, using: &random)
                }
                // Converged mostly; sometimes a refused op (the chain of
                // known violations runs through passes that are not), and
                // sometimes a pass with other writers about (it breaks it).
                var report = Report(lastApplied: .empty, strategy: .staged)
                if random.chance(0.3) {
                    report.failed = [FailedOp(.create(Self.object(using: &random)), error: KernelError(.resourceBusy))]
                    notConverged += 1
                }
                let quiet = random.chance(0.9)
                let fast = audit.violations(
                    of: report, desired: .empty, before: before, after: after, quiet: quiet, expected: expected)
                let plain = Self.plainViolations(
                    subject, sandbox, of: report, before: before, after: after, quiet: quiet, expected: expected)
                #expect(fast.sorted() == plain.sorted())
                if plain.isEmpty { clean += 1 }
                if plain.contains(where: { $0.hasPrefix("report says converged") }) { unconverged += 1 }
                // Most chains heal: the next "before" is sometimes a reading
                // that holds the expected entries again.
                before = random.chance(0.5) ? after : Snapshot(after.entries.merging(expected) { _, new in new })
            }
        }
        #expect(clean > 500 && notConverged > 500 && unconverged > 300)
    }

    @Test("a snapshot's reading is shared by copies and renewed by every change")
    func readings() {
        let a = Snapshot([.route(host: false, key: Self.routeKey(1)): .address(proto: nil)])
        var b = a
        #expect(a.changedKeys(to: b).isEmpty && a == b)
        b[.route(host: false, key: Self.routeKey(2))] = .address(proto: 4)
        #expect(a.changedKeys(to: b) == [.route(host: false, key: Self.routeKey(2))])
        b[.route(host: false, key: Self.routeKey(2))] = nil
        // Equal entries, another reading: compared entry by entry.
        #expect(a.changedKeys(to: b).isEmpty && a == b && a.hashValue == b.hashValue)
        var c = a
        c.entries[.route(host: false, key: Self.routeKey(1))] = .address(proto: 3)
        #expect(a.changedKeys(to: c).count == 1 && a != c)
    }

    @Test("an op effect without collections reads as the one with them")
    func singleEntryEffects() {
        let key = Entry.route(host: false, key: Self.routeKey(3))
        let setting = OpEffect<Entry, Value>(setting: key, to: .address(proto: 2))
        #expect(setting.sets == [key: .address(proto: 2)] && setting.removes.isEmpty && setting.touchedKeys == [key])
        let removing = OpEffect<Entry, Value>(removing: key)
        #expect(removing.sets.isEmpty && removing.removes == [key] && removing.touchedKeys == [key])
        var changed = setting
        changed.removes.insert(.route(host: true, key: Self.routeKey(3)))
        #expect(changed.sets == [key: .address(proto: 2)] && changed.removes == [.route(host: true, key: Self.routeKey(3))])
        changed.sets[key] = nil
        #expect(changed.sets.isEmpty && changed.touchedKeys == [.route(host: true, key: Self.routeKey(3))])
    }

    // MARK: generated passes

    struct Pass {
        var report: Report
        var before: Snapshot
        var after: Snapshot
        var quiet: Bool
        var expected: [Entry: Value]
    }

    static func routeKey(_ n: Int, table: UInt32 = 254, metric: UInt32 = 0) -> Route.Key {
        route(n, table: table, metric: metric, gateway: 1).key
    }

    static func route(_ n: Int, table: UInt32, metric: UInt32, gateway: UInt32) -> Route {
        Route(
            destination: try! IPPrefix(.v4(0x0AC8_0000 | UInt32(n) << 8), length: 24), gateway: .v4(0x0A01_0000 | gateway),
            table: table, metric: metric, proto: RouteProtocol.linx)
    }

    /// A small universe, so draws collide: 6 addresses, 12 route keys.
    static func object(using random: inout SimRandom) -> RtnlObject {
        if random.chance(0.3) {
            let link = random.below(2)
            return .address(InterfaceAddress(
                ifindex: Int32(link + 2), address: .v4(0x0A01_0000 | UInt32(link) << 8 | UInt32(random.below(3) + 2)),
                prefixLength: 24, interfaceName: ["eth0", "eth1"][link]))
        }
        return .route(route(
            random.below(6), table: random.chance(0.5) ? 254 : 100, metric: 0, gateway: UInt32(random.below(2) + 1)))
    }

    static func entry(of object: RtnlObject, host: Bool = false) -> (Entry, Value) {
        switch object {
        case .address(let address):
            (.address(host: host, interface: address.interfaceName!, address: address.address, prefixLength: address.prefixLength),
             Value(address))
        case .route(let route): (.route(host: host, key: route.key), Value(route))
        }
    }

    static func entries(using random: inout SimRandom, count: Int) -> [Entry: Value] {
        var entries: [Entry: Value] = [:]
        for _ in 0..<count {
            let (key, value) = entry(of: object(using: &random), host: random.chance(0.1))
            entries[key] = value
        }
        return entries
    }

    static func changed(_ snapshot: Snapshot, using random: inout SimRandom) -> Snapshot {
        var entries = snapshot.entries
        for _ in 0..<random.int(in: 0...3) {
            let (key, value) = entry(of: object(using: &random))
            entries[key] = random.chance(0.4) ? nil : value
        }
        if random.chance(0.2), let key = entries.keys.sorted().first { entries[key] = .address(proto: 9) }
        return Snapshot(entries)
    }

    static func pass(using random: inout SimRandom) -> Pass {
        var ops: [ReconcileOp<RtnlObject>] = []
        for _ in 0..<random.int(in: 0...10) {
            if !ops.isEmpty && random.chance(0.08) {
                ops.append(random.pick(ops))  // a duplicate
                continue
            }
            let item = object(using: &random)
            switch random.below(3) {
            case 0: ops.append(.create(item))
            case 1: ops.append(.update(item, previous: object(using: &random)))
            default: ops.append(.delete(item))
            }
        }
        let cut1 = random.int(in: 0...ops.count), cut2 = random.int(in: cut1...ops.count)
        let failed = ops[cut1..<cut2].map { FailedOp($0, error: KernelError(.resourceBusy)) }
        let strategy = random.pick([ApplyStrategy.staged, .staged, .staged, .bestEffort, .failFast, .allOrNothing])
        let report = Report(
            applied: Array(ops[..<cut1]), failed: failed, pending: Array(ops[cut2...]), lastApplied: .empty,
            strategy: strategy)
        let before = Snapshot(entries(using: &random, count: random.int(in: 0...8)))
        // After: the applied ops' effects, mostly; sometimes not, and
        // sometimes a change nobody made.
        var after = before.entries
        for op in report.applied where random.chance(0.9) {
            let (key, value) = entry(of: op.item)
            after[key] = op.isDelete ? nil : value
        }
        for op in report.pending where random.chance(0.1) {
            let (key, value) = entry(of: op.item)
            after[key] = op.isDelete ? nil : value
        }
        if random.chance(0.3) {
            let (key, value) = entry(of: object(using: &random))
            after[key] = value
        }
        let expected = random.chance(0.5) ? after.filter { _ in random.chance(0.7) } : entries(using: &random, count: 3)
        return Pass(report: report, before: before, after: Snapshot(after), quiet: random.chance(0.8), expected: expected)
    }

    // MARK: the plain checks (the audit before its one-sweep rewrite)

    static func plainViolations(
        _ subject: RtnlSimSubject, _ sandbox: RtnlSimSubject.Sandbox, of report: Report, before: Snapshot,
        after: Snapshot, quiet: Bool, expected: [Entry: Value]
    ) -> [String] {
        func describe(_ op: ReconcileOp<RtnlObject>) -> String { "\(op.symbol) \(op.item)" }
        var problems = plainDuplicates(report) + plainStrategy(report)
        var explained = Set<Entry>()
        for op in report.applied {
            let effect = subject.effect(of: op, in: sandbox)
            explained.formUnion(effect.touchedKeys)
            explained.formUnion(subject.sideEffects(of: op, before: before, in: sandbox))
            guard quiet else { continue }
            for (key, value) in effect.sets where after[key] != value {
                problems.append("applied \(describe(op)) but \(key) is \(after[key].map { "\($0)" } ?? "absent"), not \(value)")
            }
            for key in effect.removes where after[key] != nil {
                problems.append("applied \(describe(op)) but \(key) is still present")
            }
        }
        for failed in report.failed {
            explained.formUnion(subject.effect(of: failed.op, in: sandbox).touchedKeys)
            explained.formUnion(subject.sideEffects(of: failed.op, before: before, in: sandbox))
        }
        var changed = Set<Entry>()
        for key in Set(before.entries.keys).union(after.entries.keys) where before[key] != after[key] { changed.insert(key) }
        let unexplained = quiet ? changed.filter { !explained.contains($0) } : []
        for op in report.pending where !unexplained.isEmpty {
            let effect = subject.effect(of: op, in: sandbox)
            for key in effect.sets.keys where unexplained.contains(key) {
                problems.append("\(describe(op)) is pending (never attempted) but \(key) changed")
            }
            for key in effect.removes where effect.sets[key] == nil && unexplained.contains(key) {
                problems.append("\(describe(op)) is pending (never attempted) but \(key) changed")
            }
        }
        if quiet {
            for key in unexplained {
                problems.append(
                    "\(key) changed (\(before[key].map { "\($0)" } ?? "absent") -> \(after[key].map { "\($0)" } ?? "absent")) but no op in the report touches it")
            }
            if report.converged {
                var missing: [String] = []
                for (key, value) in expected {
                    switch after[key] {
                    case nil: missing.append("\(key): missing, expected \(value)")
                    case let actual? where actual != value: missing.append("\(key): is \(actual), expected \(value)")
                    default: break
                    }
                }
                problems += missing.sorted().map { "report says converged, but \($0)" }
            }
        }
        return problems
    }

    /// Every op equal to an earlier one, pair by pair.
    static func plainDuplicates(_ report: Report) -> [String] {
        let ops = report.applied + report.failed.map(\.op) + report.pending
        return ops.indices.filter { i in ops[..<i].contains(ops[i]) }.map { i in
            "\(ops[i].symbol) \(ops[i].item) appears more than once across applied, failed and pending; each planned op must appear exactly once"
        }
    }

    static func plainStrategy(_ report: Report) -> [String] {
        var problems: [String] = []
        switch report.strategy {
        case .bestEffort:
            if !report.pending.isEmpty {
                problems.append("best-effort report has \(report.pending.count) pending ops; best-effort tries every op")
            }
        case .failFast:
            if report.failed.count > 1 {
                problems.append("fail-fast report has \(report.failed.count) failed ops; it must stop at the first")
            }
            if report.failed.isEmpty && !report.pending.isEmpty {
                problems.append("fail-fast report has pending ops but no failed op that stopped it")
            }
        case .staged:
            if report.failed.isEmpty && !report.pending.isEmpty {
                problems.append("staged report has pending ops but no failed op that stopped it")
            }
        case .allOrNothing:
            if !report.failed.isEmpty && !report.applied.isEmpty {
                problems.append("all-or-nothing report has \(report.applied.count) applied ops beside a refused transaction; a refused transaction applies nothing")
            }
            if report.failed.count > 1 {
                problems.append("all-or-nothing report has \(report.failed.count) failed ops; the kernel refuses a transaction at one command")
            }
            if report.failed.isEmpty && !report.pending.isEmpty {
                problems.append("all-or-nothing report has pending ops but no refused op")
            }
        }
        return problems
    }
}
