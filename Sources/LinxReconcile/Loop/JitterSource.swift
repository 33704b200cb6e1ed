/// A tiny seeded random number generator (SplitMix64), so that jitter is
/// reproducible when a seed is given: one seed, one schedule.
struct JitterMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The jitter source of one loop: seeded when the configuration names a seed,
/// the system generator otherwise.
struct JitterSource: RandomNumberGenerator, Sendable {
    private var seeded: JitterMix64?
    private var system = SystemRandomNumberGenerator()

    init(seed: UInt64?) {
        seeded = seed.map(JitterMix64.init(seed:))
    }

    mutating func next() -> UInt64 {
        if seeded != nil { return seeded!.next() }
        return system.next()
    }
}
