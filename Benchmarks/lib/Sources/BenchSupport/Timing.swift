import Glibc

/// A duration in seconds, as the drivers print them.
public func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// The median (the upper one of an even count).
public func median(_ values: [Double]) -> Double { percentile(values, 0.5) }

/// The value below which a fraction `p` of `values` lies (nearest rank).
public func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

/// `numerator / denominator` with two decimals, as the reports print ratios.
public func ratio(_ numerator: Double, _ denominator: Double) -> String {
    let value = (numerator / denominator * 100).rounded() / 100
    return "\(value)x"
}

/// Prints `error: MESSAGE` (the scripts look for it) and exits 1.
public func fail(_ message: String) -> Never {
    print("error: \(message)")
    exit(1)
}
