import LinxConformance
import LinxKernelSim
import LinxReconcile
import Testing

/// The route keys, prefixes, addresses, address keys and snapshot entries
/// hash with `WordHash` in dictionaries and sets (their `_rawHashValue`),
/// not SipHash: the same contents for the same operations, and keys that
/// differ in any one field spread over the buckets.
@Suite("word hash of the rtnl value types")
struct WordHashTests {
    /// A key hashed the old way: SipHash over `hash(into:)`.
    struct SipKey<Value: Hashable>: Hashable {
        var value: Value
        func hash(into hasher: inout Hasher) { hasher.combine(value) }
    }

    /// Random inserts, overwrites, removals and lookups from a small pool, on
    /// a dictionary keyed by the values and one keyed by SipKey: same answers
    /// and same contents at every step.
    static func sameAsSipHash<Value: Hashable>(_ pool: [Value], seed: UInt64) {
        var random = SimRandom(seed: seed)
        var fast: [Value: Int] = [:]
        var reference: [SipKey<Value>: Int] = [:]
        for step in 0..<3000 {
            let key = random.pick(pool)
            switch random.below(4) {
            case 0, 1:
                #expect(fast.updateValue(step, forKey: key) == reference.updateValue(step, forKey: SipKey(value: key)))
            case 2:
                #expect(fast.removeValue(forKey: key) == reference.removeValue(forKey: SipKey(value: key)))
            default:
                #expect(fast[key] == reference[SipKey(value: key)])
            }
            guard step % 500 == 0 else { continue }
            #expect(fast.count == reference.count)
            #expect(reference.allSatisfy { fast[$0.key.value] == $0.value })
        }
        let unique = Set(pool.map { SipKey(value: $0) }).map(\.value)
        var set = Set(pool)
        #expect(set.count == unique.count)
        for value in unique.prefix(unique.count / 2) { #expect(set.remove(value) == value) }
        #expect(Set(set.map { SipKey(value: $0) }) == Set(unique.dropFirst(unique.count / 2).map { SipKey(value: $0) }))
    }

    /// Distinct buckets (the hash's low bits) per value, in a table of as
    /// many buckets as values, rounded up to a power of two: 0.63 or more
    /// for a random hash, 1 / count for a constant one.
    static func spread<Value: Hashable>(_ values: [Value], seed: Int) -> Double {
        let mask = (1 << (Int.bitWidth - (values.count - 1).leadingZeroBitCount)) - 1
        let buckets = Set(values.map { $0._rawHashValue(seed: seed) & mask })
        return Double(buckets.count) / Double(values.count)
    }

    static func prefix(_ random: inout SimRandom) -> IPPrefix {
        if random.below(3) == 0 {
            let length = random.int(in: 0...128)
            let address = IPAddress.v6(high: random.next(), low: random.next()).masked(to: length)
            return try! IPPrefix(address, length: length)
        }
        let length = random.int(in: 0...32)
        return try! IPPrefix(IPAddress.v4(UInt32(truncatingIfNeeded: random.next())).masked(to: length), length: length)
    }

    static func key(_ random: inout SimRandom) -> Route.Key {
        Route.Key(
            table: random.pick([100, 253, 254, 255]), destination: prefix(&random), tos: random.pick([0, 0, 4]),
            metric: random.pick([0, 10, 50, 256, 1024]))
    }

    @Test("dictionaries and sets hold what SipHash-keyed ones hold")
    func sameContents() {
        for seed in [UInt64(1), 2, 3] {
            var random = SimRandom(seed: seed)
            // Small pools, drawn with repeats, so the same key is met again.
            let prefixes = (0..<60).map { _ in Self.prefix(&random) }
            let keys = (0..<60).map { _ in Self.key(&random) }
            let entries = keys.prefix(30).map { RtnlEntry.route(host: random.below(4) == 0, key: $0) }
                + prefixes.prefix(30).map {
                    RtnlEntry.address(
                        host: random.below(4) == 0, interface: random.pick(["eth0", "eth1"]), address: $0.address,
                        prefixLength: $0.length)
                }
            Self.sameAsSipHash(prefixes.map(\.address), seed: seed)
            Self.sameAsSipHash(prefixes, seed: seed)
            Self.sameAsSipHash(keys, seed: seed)
            Self.sameAsSipHash(
                prefixes.map { InterfaceAddress.Key(ifindex: random.pick([1, 2, 3]), address: $0.address, prefixLength: $0.length) },
                seed: seed)
            Self.sameAsSipHash(entries, seed: seed)
        }
    }

    @Test("values that differ in one field spread over the buckets", arguments: [0, 1, 0x5EED_1234_5678])
    func spreads(seed: Int) {
        let n = 1024
        let base = Route.Key(table: 254, destination: try! IPPrefix("10.200.0.0/16"), tos: 0, metric: 0)
        func varied(_ change: (inout Route.Key, Int) -> Void) -> [Route.Key] {
            (0..<n).map { i in
                var key = base
                change(&key, i)
                return key
            }
        }
        let families: [(String, [Route.Key])] = [
            ("table", varied { key, i in key.table = UInt32(i) }),
            ("metric", varied { key, i in key.metric = UInt32(i) }),
            ("v4 destination", varied { key, i in key.destination = try! IPPrefix(.v4(0x0A00_0000 | UInt32(i) << 8), length: 24) }),
            ("v6 destination", varied { key, i in key.destination = try! IPPrefix(.v6(high: 0xFD00_0000_0000_0000 | UInt64(i) << 16, low: 0), length: 64) }),
            ("v6 low half", varied { key, i in key.destination = try! IPPrefix(.v6(high: 0xFE80 << 48, low: UInt64(i)), length: 128) }),
        ]
        for (field, keys) in families {
            #expect(Self.spread(keys, seed: seed) > 0.5, "route keys varying in \(field)")
            #expect(Self.spread(keys.map { RtnlEntry.route(host: false, key: $0) }, seed: seed) > 0.5, "entries varying in \(field)")
            #expect(Self.spread(keys.map(\.destination), seed: seed) > 0.5 || !field.contains("destination"), "prefixes, \(field)")
        }
        // Lengths and tos have few values: a table of 32 buckets.
        let lengths = (0...32).map { try! IPPrefix(IPAddress.v4(0).masked(to: $0), length: $0) }
        #expect(Self.spread(lengths, seed: seed) > 0.5)
        let tos = (0..<32).map { Route.Key(table: 254, destination: base.destination, tos: UInt8($0 * 4), metric: 0) }
        #expect(Self.spread(tos, seed: seed) > 0.5)
        let addresses = (0..<n).map {
            RtnlEntry.address(host: false, interface: "eth0", address: .v4(0x0A01_0000 | UInt32($0)), prefixLength: 24)
        }
        #expect(Self.spread(addresses, seed: seed) > 0.5)
        let onLinks = (0..<n).map { InterfaceAddress.Key(ifindex: Int32($0), address: .v4(0x0A01_0001), prefixLength: 24) }
        #expect(Self.spread(onLinks, seed: seed) > 0.5)
    }

    @Test("RtnlEntry's written-out == answers as comparing every field does")
    func entryEqualityIsFieldwise() {
        // Addresses of both families, including a v6 whose words pack like
        // a v4 address's hash words, with every field varied one at a time.
        let addresses: [IPAddress] = [
            .v4(0x0A01_0002), .v4(0x0A01_0003), .v6(high: 0x1_0A01_0002, low: 0), .v6(high: 0x1_0A01_0002, low: 1),
            .v6(high: 0xFD00 << 48, low: 0),
        ]
        var entries: [RtnlEntry] = []
        for host in [false, true] {
            for address in addresses {
                for length in [24, 32] {
                    for interface in ["eth0", "eth1", "a-name-longer-than-fifteen"] {
                        entries.append(.address(host: host, interface: interface, address: address, prefixLength: length))
                    }
                    for table in [100, 254] as [UInt32] {
                        for tos in [0, 4] as [UInt8] {
                            for metric in [0, 10] as [UInt32] {
                                let destination = try! IPPrefix(address.masked(to: length), length: length)
                                entries.append(.route(host: host, key: Route.Key(table: table, destination: destination, tos: tos, metric: metric)))
                            }
                        }
                    }
                }
            }
        }
        func fieldwise(_ a: RtnlEntry, _ b: RtnlEntry) -> Bool {
            switch (a, b) {
            case let (.route(h1, k1), .route(h2, k2)): h1 == h2 && k1 == k2
            case let (.address(h1, i1, a1, l1), .address(h2, i2, a2, l2)): h1 == h2 && i1 == i2 && a1 == a2 && l1 == l2
            default: false
            }
        }
        // One expectation for all pairs (tens of thousands of them), naming
        // the first few that disagree.
        var disagreeing: [String] = []
        for a in entries {
            for b in entries where (a == b) != fieldwise(a, b) { disagreeing.append("\(a) vs \(b)") }
        }
        #expect(disagreeing.isEmpty, "\(disagreeing.prefix(5))")
        #expect(entries.count > 100)
    }
}
