/// A route's kernel key packed into four words, for the hot path of the
/// route diff: hashing and comparing it costs a fraction of hashing
/// ``Route/Key`` field by field, which matters at 10,000 routes a pass.
///
/// Orders like ``Route/Key``: family, table, destination, tos, metric.
struct RtnlFastKey: Hashable, Comparable {
    private let w0: UInt64  // family << 32 | table
    private let w1: UInt64  // address, high half (IPv4 in the top 32 bits)
    private let w2: UInt64  // address, low half
    private let w3: UInt64  // prefix length << 40 | tos << 32 | metric

    // Borrowed: an initializer's argument is otherwise passed owned, so a
    // route read out of a buffer was copied just to be keyed.
    init(_ route: borrowing Route) {
        let destination = route.destination
        switch destination.address {
        case .v4(let value):
            w0 = UInt64(route.table)
            w1 = UInt64(value) << 32
            w2 = 0
        case .v6(let high, let low):
            w0 = 1 << 32 | UInt64(route.table)
            w1 = high
            w2 = low
        }
        w3 = UInt64(destination.length) << 40 | UInt64(route.tos) << 32 | UInt64(route.metric)
    }

    /// One word for the hasher, not four: each word fed costs a SipHash
    /// round, and a pass hashes every desired and observed route. Keys that
    /// fold to the same word only share a bucket (equality stays exact);
    /// for IPv4 (w2 = 0) that takes two fields' mix to cancel in 32 bits.
    func hash(into hasher: inout Hasher) {
        hasher.combine(w1 ^ w2 &* 0x9E37_79B9_7F4A_7C15 ^ (w0 ^ w3 &* 0xC2B2_AE3D_27D4_EB4F) &* 0x1656_67B1_9E37_79F9)
    }

    /// The hash dictionaries and sets use: `WordHash` over the four words,
    /// no Hasher (the desired index, the diff and the primary swap look a
    /// key up per route per pass).
    func _rawHashValue(seed: Int) -> Int {
        WordHash.hash(seed: seed, w0, w1, w2, w3)
    }

    static func < (a: RtnlFastKey, b: RtnlFastKey) -> Bool {
        if a.w0 != b.w0 { return a.w0 < b.w0 }
        if a.w1 != b.w1 { return a.w1 < b.w1 }
        if a.w2 != b.w2 { return a.w2 < b.w2 }
        return a.w3 < b.w3
    }
}

/// An address's kernel key (interface, address, prefix length) packed into
/// words, for the hot path of the address diff. Orders like
/// ``InterfaceAddress/Key``: interface, address (IPv4 before IPv6), length.
struct RtnlFastAddressKey: Hashable, Comparable {
    private let w0: UInt64  // ifindex << 1 | family
    private let w1: UInt64  // address, high half (IPv4 in the top 32 bits)
    private let w2: UInt64  // address, low half
    private let w3: UInt64  // prefix length

    init(_ address: borrowing InterfaceAddress) {
        let head = UInt64(UInt32(bitPattern: address.ifindex)) << 1
        switch address.address {
        case .v4(let value):
            w0 = head
            w1 = UInt64(value) << 32
            w2 = 0
        case .v6(let high, let low):
            w0 = head | 1
            w1 = high
            w2 = low
        }
        w3 = UInt64(address.prefixLength)
    }

    /// The hash dictionaries and sets use: `WordHash` over the four words
    /// (see ``RtnlFastKey``'s).
    func _rawHashValue(seed: Int) -> Int {
        WordHash.hash(seed: seed, w0, w1, w2, w3)
    }

    static func < (a: RtnlFastAddressKey, b: RtnlFastAddressKey) -> Bool {
        if a.w0 != b.w0 { return a.w0 < b.w0 }
        if a.w1 != b.w1 { return a.w1 < b.w1 }
        if a.w2 != b.w2 { return a.w2 < b.w2 }
        return a.w3 < b.w3
    }
}

/// Where each desired object sits, by packed key: built once per desired
/// state (and kept across passes while it does not change), so a pass costs
/// one hash lookup per observed object.
struct RtnlDesiredIndex: Sendable {
    var routes: [RtnlFastKey: Int]
    var addresses: [RtnlFastAddressKey: Int]
    /// Desired route positions in key order: the canonical order of creates
    /// and updates, sorted once rather than every pass.
    var routeOrder: [Int]
    /// Desired address positions in key order.
    var addressOrder: [Int]

    init(_ desired: RtnlResolvedState) {
        self.init(
            routes: Self.table(desired.routes, RtnlFastKey.init),
            addresses: Self.table(desired.addresses, RtnlFastAddressKey.init))
    }

    /// An index from key -> position tables (first position of each key).
    init(routes: [RtnlFastKey: Int], addresses: [RtnlFastAddressKey: Int]) {
        self.routes = routes
        self.addresses = addresses
        routeOrder = Self.order(routes)
        addressOrder = Self.order(addresses)
    }

    /// An index that keeps `routes` and its order (already computed) and
    /// takes a new address table.
    init(routes: [RtnlFastKey: Int], routeOrder: [Int], addresses: [RtnlFastAddressKey: Int]) {
        self.routes = routes
        self.routeOrder = routeOrder
        self.addresses = addresses
        addressOrder = Self.order(addresses)
    }

    private static func table<T, K: Hashable>(_ items: [T], _ key: (T) -> K) -> [K: Int] {
        var table: [K: Int] = [:]
        table.reserveCapacity(items.count)
        for position in items.indices {
            let k = key(items[position])
            if table[k] == nil { table[k] = position }
        }
        return table
    }

    private static func order<K: Comparable>(_ table: [K: Int]) -> [Int] {
        var keyed = [(key: K, position: Int)?](repeating: nil, count: table.count)
        for (key, position) in table where position < keyed.count { keyed[position] = (key, position) }
        // Positions come in the order written, which is often sorted or
        // nearly so: the (run-adaptive) sort is then about linear.
        // Into an array of its final size: compactMap grew its array as it
        // filled, copying it several times for a desired state's routes.
        var ordered: [(key: K, position: Int)] = []
        ordered.reserveCapacity(table.count)
        for entry in keyed { if let entry { ordered.append(entry) } }
        ordered.sort { $0.key < $1.key }
        return ordered.map(\.position)
    }
}
