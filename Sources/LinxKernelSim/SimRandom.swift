/// The simulator's own seeded pseudo-random generator (xoshiro256**, seeded
/// through SplitMix64).
///
/// Everything random in the simulator (drift, random fault plans, link-local
/// interface ids) draws from one of these, never from
/// `SystemRandomNumberGenerator`, so one seed gives one history on every run
/// and every machine. It is public so a fuzzer can derive its own streams
/// from the same seed.
public struct SimRandom: RandomNumberGenerator, Sendable, Hashable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// Seeds the four state words from `seed` with SplitMix64, so nearby seeds
    /// still give unrelated streams and seed 0 is valid.
    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s0 = sm.next()
        s1 = sm.next()
        s2 = sm.next()
        s3 = sm.next()
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    /// A uniform integer in `0..<bound` (Lemire's method, unbiased); our own so
    /// the stream does not depend on the standard library's algorithm.
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "SimRandom.below needs a positive bound")
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// A uniform integer in `range`.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.count)
    }

    /// True with probability `p` (0...1), decided on 53 random bits.
    public mutating func chance(_ p: Double) -> Bool {
        if p <= 0 { return false }
        if p >= 1 { return true }
        return Double(next() >> 11) * 0x1p-53 < p
    }

    /// One element of a non-empty collection.
    public mutating func pick<C: RandomAccessCollection>(_ items: C) -> C.Element where C.Index == Int {
        items[items.startIndex + below(items.count)]
    }

    /// A new generator whose stream is independent of this one's remainder,
    /// for handing a sub-component its own stream.
    public mutating func split() -> SimRandom { SimRandom(seed: next()) }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// SplitMix64: the recommended seeder for xoshiro, and the package's mixer
/// for deriving per-case and per-scenario seeds.
package struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    private var state: UInt64

    /// A generator whose state starts at `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
