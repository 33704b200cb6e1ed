/// Capped exponential backoff with jitter: how long to wait before the next
/// attempt after `attempt` consecutive failures.
///
/// Used between failed reconcile passes (so a broken kernel is not hammered)
/// and between monitor resubscriptions. The delay for attempt `n` (1-based) is
/// `min(maximum, initial * multiplier^(n-1))`, then shortened by a random
/// fraction of up to `jitter`, so many loops failing together spread out.
/// The upper bound is therefore exact, which is what a test can rely on.
public struct Backoff: Sendable, Hashable {
    /// The delay after the first failure (before jitter).
    public var initial: Duration
    /// The cap; no delay is ever longer.
    public var maximum: Duration
    /// Growth factor between consecutive failures (at least 1).
    public var multiplier: Double
    /// The largest fraction (0 ... 1) that jitter may take off a delay.
    public var jitter: Double

    /// - Precondition: `initial` is positive, `maximum >= initial`,
    ///   `multiplier >= 1`, and `jitter` lies in 0 ... 1.
    public init(initial: Duration, maximum: Duration, multiplier: Double = 2, jitter: Double = 0.2) {
        precondition(initial > .zero, "Backoff.initial must be positive, got \(initial)")
        precondition(maximum >= initial, "Backoff.maximum (\(maximum)) must be >= initial (\(initial))")
        precondition(multiplier >= 1, "Backoff.multiplier must be >= 1, got \(multiplier)")
        precondition((0...1).contains(jitter), "Backoff.jitter must be in 0...1, got \(jitter)")
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The un-jittered delay for the `attempt`-th consecutive failure (1-based).
    public func ceiling(attempt: Int) -> Duration {
        let exponent = Double(max(attempt, 1) - 1)
        let seconds = initial.seconds * pow(multiplier, exponent)
        let capped = min(seconds, maximum.seconds)
        return capped >= maximum.seconds ? maximum : .seconds(capped)
    }

    /// The jittered delay for the `attempt`-th consecutive failure (1-based):
    /// within `ceiling(attempt:) * (1 - jitter) ... ceiling(attempt:)`.
    public func delay(attempt: Int, using random: inout some RandomNumberGenerator) -> Duration {
        let ceiling = ceiling(attempt: attempt)
        guard jitter > 0 else { return ceiling }
        let cut = Double.random(in: 0..<jitter, using: &random)
        return .seconds(ceiling.seconds * (1 - cut))
    }
}

fileprivate extension Duration {
    /// The duration as (fractional) seconds.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) * 1e-18
    }
}

/// `pow` for the backoff exponent, without pulling in Foundation.
private func pow(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    var remaining = Int(exponent)
    // Stop early: beyond 2^64 the cap has long been hit.
    while remaining > 0 && result < 1e19 {
        result *= base
        remaining -= 1
    }
    return result
}
