/// A quick seeded hash of up to four 64-bit words, for the
/// `_rawHashValue(seed:)` of the small value types that hot loops key
/// dictionaries and sets by (route keys, prefixes, address keys, snapshot
/// entries).
///
/// A dictionary lookup through `hash(into:)` runs SipHash over every field
/// (a Hasher set up, one round per 8 bytes, four to finish); the simulator
/// and the fuzz oracle do hundreds of lookups a pass, so hashing was about a
/// tenth of a fuzz campaign's time. This folds the words with three
/// full-width multiplies instead (the wyhash step). It only has to spread
/// keys over buckets: equal words give equal hashes, and equality itself is
/// still `==`, so no behaviour depends on it, only speed.
package enum WordHash {
    /// The hash of `a`, `b`, `c`, `d` under `seed` (the table's seed).
    @inline(__always)
    package static func hash(seed: Int, _ a: UInt64, _ b: UInt64, _ c: UInt64 = 0, _ d: UInt64 = 0) -> Int {
        let s = UInt64(UInt(bitPattern: seed))
        let first = fold(a ^ s ^ 0xA076_1D64_78BD_642F, b ^ 0xE703_7ED1_A0B4_28DB)
        let second = fold(c ^ first ^ 0x8EBC_6AF0_9C88_C6E3, d ^ s ^ 0x5899_65CC_7537_4CC3)
        return Int(truncatingIfNeeded: fold(second ^ 0x1D8E_4E27_C47D_124F, first ^ s ^ 0xA076_1D64_78BD_642F))
    }

    /// The high and low halves of the 128-bit product, xored.
    @inline(__always)
    static func fold(_ x: UInt64, _ y: UInt64) -> UInt64 {
        let product = x.multipliedFullWidth(by: y)
        return product.high ^ product.low
    }
}

extension IPAddress {
    /// The address as two words for `WordHash`: an IPv4 address tagged
    /// above its 32 bits (so it never meets an IPv6 address's words), an
    /// IPv6 address as its halves.
    @inline(__always)
    package var hashWords: (UInt64, UInt64) {
        switch self {
        case .v4(let value): (UInt64(value) | 1 << 32, 0)
        case .v6(let high, let low): (high, low)
        }
    }

    /// The hash dictionaries and sets use: `WordHash` over the address's
    /// words (see there), not SipHash over the enum.
    public func _rawHashValue(seed: Int) -> Int {
        let (a, b) = hashWords
        return WordHash.hash(seed: seed, a, b)
    }
}

extension IPPrefix {
    /// The hash dictionaries and sets use: `WordHash` over the address's
    /// words and the length.
    public func _rawHashValue(seed: Int) -> Int {
        let (a, b) = address.hashWords
        return WordHash.hash(seed: seed, a, b, UInt64(truncatingIfNeeded: length))
    }
}

extension Route.Key {
    /// The hash dictionaries and sets use: `WordHash` over the fields
    /// packed into four words.
    public func _rawHashValue(seed: Int) -> Int {
        let (a, b) = destination.address.hashWords
        return WordHash.hash(
            seed: seed, a, b, UInt64(table) << 32 | UInt64(metric),
            UInt64(tos) << 16 | UInt64(truncatingIfNeeded: destination.length))
    }
}

extension InterfaceAddress.Key {
    /// The hash dictionaries and sets use: `WordHash` over the fields
    /// packed into three words.
    public func _rawHashValue(seed: Int) -> Int {
        let (a, b) = address.hashWords
        return WordHash.hash(
            seed: seed, a, b, UInt64(UInt32(bitPattern: ifindex)) << 32 | UInt64(truncatingIfNeeded: prefixLength))
    }
}
