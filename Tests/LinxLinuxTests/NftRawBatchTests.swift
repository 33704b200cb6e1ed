import Glibc
@testable import LinxLinux
import LinxReconcile
import LinxTestSupport
import SystemPackage
import Testing

/// The batch of tables, plain sets and elements built without libnftables
/// (no kernel needed): byte for byte what nft 1.0.6 sends, and which
/// transactions are left to libnftables.
@Suite("nf_tables raw batch")
struct NftRawBatchTests {
    let t = NftTableRef(.inet, "linx")

    /// Nothing in the kernel.
    static var empty: NftRawBatch.Lookup { NftRawBatch.Lookup(tableFlags: { _ in nil }, set: { _, _ in nil }, nftReadsNames: { _, _ in true }) }

    /// The table exists (flags `flags`) with set `s` of `type`.
    static func existing(flags: UInt32 = 0, set type: UInt32 = 7, length: UInt32 = 4, setFlags: UInt32 = 0) -> NftRawBatch.Lookup {
        NftRawBatch.Lookup(
            tableFlags: { _ in flags },
            set: { _, name in name == "s" ? NftRawBatch.ExistingSet(flags: setFlags, keyType: type, keyLength: length) : nil },
            nftReadsNames: { _, set in set != "counter" })
    }

    static func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8.filter { $0 != UInt8(ascii: " ") })
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
    }

    @Test("a new table with a comment, a set and two elements: the messages nft -f sends (strace), plus the generation")
    func sameBytesAsNft() throws {
        let commands: [NftCommand] = [
            .addTable(t, flags: [], comment: "linx"), .addSet(t, NftSet("s", type: "ipv4_addr")),
            .addElements(t, set: "s", ["10.100.0.1", "10.100.0.2"]),
        ]
        let batch = try #require(try NftRawBatch(commands, expecting: 0x2C5, lookup: Self.empty))
        // strace -xx of `nft -f` (1.0.6) of `table inet linx { comment "linx"; set s { type ipv4_addr;
        // elements = { 10.100.0.1, 10.100.0.2 } } }`: nft's BATCH_BEGIN has no NFNL_BATCH_GENID.
        let begin = Self.bytes("1c000000 1000 0100 00000000 00000000 0000000a 0800 0100 000002c5")
        let table = Self.bytes(
            "34000000 000a 0100 01000000 00000000 01000000 0900 0100 6c696e78 00000000 0800 0200 00000000 0b00 0600 00056c69 6e780000")
        let set = Self.bytes(
            "54000000 090a 0104 02000000 00000000 01000000 0900 0100 6c696e78 00000000 0600 0200 73000000 0800 0300 00000000"
                + " 0800 0400 00000007 0800 0500 00000004 0800 0a00 00000001 0a00 0d00 00040200 00000000")
        let elements = Self.bytes(
            "54000000 0c0a 0104 03000000 00000000 01000000 0900 0100 6c696e78 00000000 0600 0200 73000000 0800 0400 00000001"
                + " 2400 0380 1000 0180 0c00 0180 0800 0100 0a640001 1000 0280 0c00 0180 0800 0100 0a640002")
        let end = Self.bytes("14000000 1100 0100 04000000 00000000 0000000a")
        #expect(batch.bytes == begin + table + set + elements + end)
        #expect(batch.commandOfSequence == [nil, 0, 1, 2, nil])
    }

    @Test("10,000 addresses: split where nft splits them (4,095 a message, the nested list's 16-bit length)")
    func splitsLikeNft() throws {
        let addresses = (0..<10_000).map { "10.\(100 + $0 / 62500).\($0 / 250 % 250).\($0 % 250 + 1)" }
        let commands: [NftCommand] = [.addTable(t, flags: [], comment: "linx"), .addSet(t, NftSet("s", type: "ipv4_addr")), .addElements(t, set: "s", addresses)]
        let batch = try #require(try NftRawBatch(commands, expecting: 1, lookup: Self.empty))
        #expect(batch.commandOfSequence == [nil, 0, 1, 2, 2, 2, nil])
        // Message lengths as strace showed for nft -f of bench-nft.sh's SETFILE.
        var lengths: [Int] = []
        var offset = 0
        while offset < batch.bytes.count {
            let length = batch.bytes.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
            lengths.append(length)
            offset += (length + 3) & ~3
        }
        #expect(lengths == [28, 52, 84, 65572, 65572, 29012, 20])
    }

    @Test("elements of an existing set: the set by name only, its type from the kernel; deletions without NLM_F_CREATE")
    func existingSet() throws {
        let six = NftTableRef(.ip6, "t6")
        let commands: [NftCommand] = [.deleteElements(six, set: "s", ["22"]), .addElements(six, set: "s", ["443"])]
        let batch = try #require(try NftRawBatch(commands, expecting: 9, lookup: Self.existing(set: 13, length: 2)))
        // strace of `nft delete element ip6 t6 p { 22 }`, the set renamed s.
        let delete = Self.bytes(
            "38000000 0e0a 0100 01000000 00000000 0a000000 0700 0100 74360000 0600 0200 73000000 1400 0380 1000 0180 0c00 0180 0600 0100 00160000")
        #expect(Array(batch.bytes[28..<(28 + delete.count)]) == delete)
        #expect(batch.commandOfSequence == [nil, 0, 1, nil])
        let v6 = try #require(try NftRawBatch([.addElements(six, set: "s", ["2001:db8::1"])], expecting: 9, lookup: Self.existing(set: 8, length: 16)))
        let key = Self.bytes("20010db8 00000000 00000000 00000001")
        #expect(v6.bytes.count == 28 + 20 + 8 + 8 + 4 + 4 + 4 + 4 + 16 + 20)
        #expect(Array(v6.bytes[(v6.bytes.count - 20 - 16)..<(v6.bytes.count - 20)]) == key)
    }

    @Test("left to libnftables: rules, chains, maps, set flags, other types, ambiguous elements, owner tables, sets that exist or are missing")
    func leftToLibnftables() throws {
        let set = NftSet("s", type: "ipv4_addr")
        let new: [NftCommand] = [.addTable(t, flags: [], comment: "linx"), .addSet(t, set)]
        func raw(_ commands: [NftCommand], _ lookup: NftRawBatch.Lookup = NftRawBatchTests.empty) throws -> Bool {
            try NftRawBatch(commands, expecting: 1, lookup: lookup) != nil
        }
        #expect(try raw(new + [.addElements(t, set: "s", ["192.0.2.7", "0.0.0.0", "255.255.255.255"])]))
        #expect(try raw([.addTable(t, flags: [.dormant], comment: nil)]))
        #expect(try !raw(new + [.addChain(t, name: "c", base: nil)]))
        #expect(try !raw(new + [.addRule(t, chain: "c", rule: "accept", before: nil)]))
        #expect(try !raw([.addTable(t, flags: [.owner], comment: "linx"), .addSet(t, set)]))
        #expect(try !raw([.addTable(t, flags: [], comment: "say \"hi\"")]))
        #expect(try !raw([.addTable(t, flags: [], comment: nil), .addSet(t, NftSet("s", type: "ipv4_addr", flags: ["interval"]))]))
        #expect(try !raw([.addTable(t, flags: [], comment: nil), .addSet(t, NftSet("m", type: "inet_service", dataType: "verdict"))]))
        #expect(try !raw([.addTable(t, flags: [], comment: nil), .addSet(t, NftSet("s", type: "ether_addr"))]))
        for element in ["10.0.0.0/8", "010.0.0.1", "10.0.0", "10.0.0.256", "localhost", "10.0.0.1-10.0.0.2", " 10.0.0.1", "1.2.3.4.5"] {
            #expect(try !raw(new + [.addElements(t, set: "s", ["10.0.0.1", element])]), "\(element)")
        }
        #expect(try !raw([.addElements(t, set: "s", ["ssh"])], Self.existing(set: 13, length: 2)))
        #expect(try !raw([.addElements(t, set: "s", ["022"])], Self.existing(set: 13, length: 2)))
        #expect(try !raw([.addElements(t, set: "s", ["65536"])], Self.existing(set: 13, length: 2)))
        #expect(try !raw([.addElements(t, set: "s", ["fe80::1%lo"])], Self.existing(set: 8, length: 16)))
        // An embedded dotted quad: inet_pton takes spellings nft's lexer refuses (0:0:0:0:0:ffff:1.2.3.4);
        // only `::ffff:` or `::` and a plain dotted quad are sent raw (nft reads both the same).
        #expect(try raw([.addElements(t, set: "s", ["::ffff:192.0.2.1", "::1.2.3.4", "::ffff:c000:201", "2001:DB8::1"])], Self.existing(set: 8, length: 16)))
        for element in ["0:0:0:0:0:ffff:1.2.3.4", "2001:db8:0:1::10.0.0.1", "::ffff:010.0.0.1", "::ffff:1.2.3", "1::1.2.3.4", "::fffe:1.2.3.4"] {
            #expect(try !raw([.addElements(t, set: "s", [element])], Self.existing(set: 8, length: 16)), "\(element)")
        }
        // An empty list is nft's syntax error; a name nft reads as a keyword is nft's to refuse.
        #expect(try !raw([.addElements(t, set: "s", [])], Self.existing()))
        #expect(try !raw([.deleteElements(t, set: "s", [])], Self.existing()))
        let keywords = NftRawBatch.Lookup(tableFlags: { _ in nil }, set: { _, _ in nil }, nftReadsNames: { _, set in set != "counter" })
        #expect(try raw([.addTable(t, flags: [], comment: nil), .addSet(t, NftSet("counted", type: "ipv4_addr"))], keywords))
        #expect(try !raw([.addTable(t, flags: [], comment: nil), .addSet(t, NftSet("counter", type: "ipv4_addr"))], keywords))
        #expect(try !raw([.addTable(t, flags: [], comment: nil)], NftRawBatch.Lookup(tableFlags: { _ in nil }, set: { _, _ in nil }, nftReadsNames: { _, _ in false })))
        // The kernel's side: the table owner-flagged (its socket is libnftables'), a set with
        // flags (interval), one of another type (mark: 4 bytes too), a missing set or table,
        // a set the batch declares that already exists, a table the batch adds that exists.
        #expect(try !raw([.addElements(t, set: "s", ["10.0.0.1"])], Self.existing(flags: 2)))
        #expect(try raw([.addElements(t, set: "s", ["10.0.0.1"])], Self.existing(flags: 1)))
        #expect(try !raw([.addElements(t, set: "s", ["10.0.0.1"])], Self.existing(setFlags: 1)))
        #expect(try !raw([.addElements(t, set: "s", ["10.0.0.1"])], Self.existing(set: 19, length: 4)))
        #expect(try !raw([.addElements(t, set: "other", ["10.0.0.1"])], Self.existing()))
        #expect(try !raw([.addElements(t, set: "s", ["10.0.0.1"])]))
        #expect(try !raw([.addSet(t, set)], Self.existing()))
        #expect(try !raw([.addTable(t, flags: [], comment: "linx")], Self.existing()))
        #expect(try !raw([.deleteSet(t, name: "s")], Self.existing()))
    }
}

/// The raw batch on the real kernel, in throwaway namespaces: what nft
/// lists of it, the generation it carries, a refused command. Needs root.
@Suite("nf_tables raw batch on the real kernel", .enabled(if: RealKernel.available && NftKernel.hasNft, "needs root, iproute2 and nft"))
struct NftablesRawBatchKernelTests {
    let table = NftTableRef(.inet, "linx")

    static let desired = NftTable(sets: [
        NftSet("v4", type: "ipv4_addr", elements: (0..<3000).map { "10.\($0 / 250 % 250).\($0 % 250).\($0 % 7 + 1)" }),
        NftSet("v6", type: "ipv6_addr", elements: ["2001:db8::1", "::ffff:192.0.2.1", "fe80::1:2"]),
        NftSet("ports", type: "inet_service", elements: ["22", "443", "65535", "0"]),
    ])

    /// `nft -f` input for `desired` with Linx's marker.
    static func file(_ table: NftTable) -> String {
        var text = "table inet linx {\n  comment \"linx\";\n"
        for set in table.sets {
            text += "  set \(set.name) { type \(set.type); elements = { \(set.elements.joined(separator: ", ")) } }\n"
        }
        return text + "}\n"
    }

    @Test("a cold pass of three sets lists exactly as nft -f of the same table, in one commit; a no-op pass after it")
    func listsAsNftMakesIt() async throws {
        let path = "/tmp/linx-rawbatch-\(getpid()).nft"
        try Self.file(Self.desired).write(toFile: path)
        defer { unlink(path) }
        try await ThrowawayNamespace.with { ns in
            try ns.exec("nft", "-f", path)
            let theirs = try ns.exec("nft", "list", "table", "inet", "linx")
            try ns.exec("nft", "delete", "table", "inet", "linx")
            let kernel = LinuxKernel()
            let scope = NftScope(ns.scope, table: table)
            let reconciler = NftablesReconciler(backend: kernel)
            let before = try await reconciler.observe(in: scope).generation
            let commands = NftDiff.plan(desired: Self.desired, observed: NftObservation(generation: before, table: nil), scope: scope, options: .default).commands
            #expect(try await Self.isRaw(commands, kernel: kernel, netns: ns.scope))
            let report = try await reconciler.reconcile(in: scope, desired: Self.desired)
            #expect(report.converged && report.applied.count == 3000 + 3 + 4 + 4, "\(report.failed)")
            #expect(try ns.exec("nft", "list", "table", "inet", "linx") == theirs)
            #expect(try await reconciler.observe(in: scope).generation == before &+ 1)
            let again = try await reconciler.reconcile(in: scope, desired: Self.desired)
            #expect(again.converged && again.planned.isEmpty, "\(again.planned.prefix(3))")
        }
    }

    @Test("elements added to and deleted from existing sets; a missing element's delete is refused (ENOENT) with nothing applied")
    func churnAndRefusal() async throws {
        try await ThrowawayNamespace.with { ns in
            let kernel = LinuxKernel()
            let scope = NftScope(ns.scope, table: table)
            let reconciler = NftablesReconciler(backend: kernel)
            #expect(try await reconciler.reconcile(in: scope, desired: Self.desired).converged)
            var changed = Self.desired
            changed.sets[0].elements.removeFirst(10)
            changed.sets[0].elements.append("192.0.2.77")
            changed.sets[2].elements = ["22", "8080"]
            let observed = try await reconciler.observe(in: scope)
            let plan = NftDiff.plan(desired: changed, observed: observed, scope: scope, options: .default)
            #expect(try await Self.isRaw(plan.commands, kernel: kernel, netns: ns.scope))
            let report = await reconciler.apply(plan)
            #expect(report.converged && report.applied.count == 10 + 1 + 3 + 1, "\(report.failed)")
            let listed = try ns.exec("nft", "list", "set", "inet", "linx", "ports")
            #expect(listed.contains("elements = { 22, 8080 }"), "\(listed)")
            #expect(throws: Command.Failure.self) { try ns.exec("nft", "get", "element", "inet", "linx", "v4", "{ 10.0.0.1 }") }
            #expect(try ns.exec("nft", "get", "element", "inet", "linx", "v4", "{ 192.0.2.77 }").contains("192.0.2.77"))

            // Someone removed 192.0.2.77 since the observation: the delete of it is refused, and
            // the add in the same transaction is not applied.
            let generation = try await reconciler.observe(in: scope).generation
            let commands: [NftCommand] = [
                .addElements(table, set: "v4", ["198.51.100.9"]), .deleteElements(table, set: "v4", ["192.0.2.77", "203.0.113.1"]),
            ]
            #expect(try await Self.isRaw(commands, kernel: kernel, netns: ns.scope))
            let refused = await #expect(throws: NftTransactionError.self) {
                _ = try await kernel.commit(commands, expecting: generation, in: ns.scope)
            }
            #expect(refused?.index == 1 && refused?.error.errno == .noSuchFileOrDirectory, "\(String(describing: refused))")
            #expect(try await reconciler.observe(in: scope).generation == generation)
            #expect(try !ns.exec("nft", "list", "set", "inet", "linx", "v4").contains("198.51.100.9"))
        }
    }

    @Test("the batch carries the generation: stale, the kernel refuses it (ERESTART) and applies nothing")
    func kernelRefusesAStaleGeneration() async throws {
        try await ThrowawayNamespace.with { ns in
            let kernel = LinuxKernel()
            let commands: [NftCommand] = [.addTable(table, flags: [], comment: "linx"), .addSet(table, NftSet("s", type: "ipv4_addr"))]
            let outcome = try await kernel.perform(in: ns.scope) { context throws(KernelError) in
                let nft = try context.nftContext()
                let now = try nft.generation()
                let lookup = nft.rawBatchLookup
                // Any other generation but 0 (which the kernel takes for "no check").
                let stale = try NftRawBatch(commands, expecting: now &+ 1000, lookup: lookup)!
                let refused = try nft.send(stale)
                let after = try nft.generation()
                let absent = try nft.tableFlags(NftTableRef(.inet, "linx")) == nil
                let unchanged = after == now && absent
                let fresh = try NftRawBatch(commands, expecting: now, lookup: lookup)!
                let accepted = try nft.send(fresh)
                let moved = try nft.generation() == now &+ 1
                return (refused.map { "\($0.command.map(String.init) ?? "batch") \($0.error.errno.rawValue)" }, unchanged, accepted == nil, moved)
            }
            #expect(outcome.0 == "batch 85")
            #expect(outcome.1 && outcome.2 && outcome.3)
            #expect(try ns.exec("nft", "list", "set", "inet", "linx", "s").contains("type ipv4_addr"))
        }
    }

    @Test("names nft reads as keywords, elements with an embedded dotted quad: refused as nft refuses them, nothing created")
    func nftsRefusalsStayNfts() async throws {
        try await ThrowawayNamespace.with { ns in
            let kernel = LinuxKernel()
            for commands: [NftCommand] in [
                [.addTable(table, flags: [], comment: nil), .addSet(table, NftSet("counter", type: "ipv4_addr")), .addElements(table, set: "counter", ["10.0.0.1"])],
                [.addTable(NftTableRef(.inet, "table"), flags: [], comment: nil)],
                [.addTable(table, flags: [], comment: nil), .addSet(table, NftSet("v6", type: "ipv6_addr")), .addElements(table, set: "v6", ["0:0:0:0:0:ffff:1.2.3.4"])],
            ] {
                #expect(try await !Self.isRaw(commands, kernel: kernel, netns: ns.scope))
                let generation = try await kernel.observeTable(table, in: ns.scope).generation
                let refused = await #expect(throws: NftTransactionError.self) {
                    _ = try await kernel.commit(commands, expecting: generation, in: ns.scope)
                }
                #expect(refused?.error.errno == .invalidArgument, "\(String(describing: refused))")
                #expect(try ns.exec("nft", "list", "ruleset").isEmpty)
            }
        }
    }

    @Test("names of 228 bytes: an existing set's elements are still sent, and land")
    func longNames() async throws {
        try await ThrowawayNamespace.with { ns in
            let kernel = LinuxKernel()
            let long = NftTableRef(.inet, String(repeating: "a", count: 228))
            let name = String(repeating: "b", count: 228)
            let create: [NftCommand] = [.addTable(long, flags: [], comment: nil), .addSet(long, NftSet(name, type: "ipv4_addr"))]
            _ = try await kernel.commit(create, expecting: try await kernel.observeTable(table, in: ns.scope).generation, in: ns.scope)
            let add: [NftCommand] = [.addElements(long, set: name, ["10.0.0.2"])]
            #expect(try await Self.isRaw(add, kernel: kernel, netns: ns.scope))
            _ = try await kernel.commit(add, expecting: try await kernel.observeTable(table, in: ns.scope).generation, in: ns.scope)
            #expect(try ns.exec("nft", "list", "set", "inet", long.name, name).contains("10.0.0.2"))
        }
    }

    @Test("300 refused commands in one batch: the earliest is named, and the socket answers the next request rightly")
    func manyRefusals() async throws {
        try await ThrowawayNamespace.with { ns in
            let kernel = LinuxKernel()
            let create: [NftCommand] = [.addTable(table, flags: [], comment: nil), .addSet(table, NftSet("v4", type: "ipv4_addr")), .addElements(table, set: "v4", ["1.2.3.4"])]
            _ = try await kernel.commit(create, expecting: try await kernel.observeTable(table, in: ns.scope).generation, in: ns.scope)
            let deletes: [NftCommand] = (0..<300).map { .deleteElements(table, set: "v4", ["9.9.\($0 / 256).\($0 % 256)"]) }
            #expect(try await Self.isRaw(deletes, kernel: kernel, netns: ns.scope))
            let generation = try await kernel.observeTable(table, in: ns.scope).generation
            let refused = await #expect(throws: NftTransactionError.self) {
                _ = try await kernel.commit(deletes, expecting: generation, in: ns.scope)
            }
            #expect(refused?.index == 0 && refused?.error.errno == .noSuchFileOrDirectory, "\(String(describing: refused))")
            #expect(try await kernel.observeTable(table, in: ns.scope).generation == generation)
            _ = try await kernel.commit([.addElements(table, set: "v4", ["1.1.1.1"])], expecting: generation, in: ns.scope)
            #expect(try ns.exec("nft", "list", "set", "inet", "linx", "v4").contains("1.1.1.1"))
        }
    }

    /// Whether the backend sends `commands` as a raw batch (asked on the
    /// namespace's thread, as commit asks).
    static func isRaw(_ commands: [NftCommand], kernel: LinuxKernel, netns: NetnsScope) async throws -> Bool {
        try await kernel.perform(in: netns) { context throws(KernelError) in
            let nft = try context.nftContext()
            let lookup = nft.rawBatchLookup
            return try NftRawBatch(commands, expecting: 0, lookup: lookup) != nil
        }
    }
}

extension String {
    fileprivate func write(toFile path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw KernelError(Errno(rawValue: errno), "cannot write \(path)") }
        defer { close(fd) }
        var copy = self
        _ = copy.withUTF8 { Glibc.write(fd, $0.baseAddress, $0.count) }
    }
}
