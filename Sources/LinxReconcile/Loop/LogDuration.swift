extension Duration {
    /// Milliseconds with three decimals ("200.036"), the unit of every
    /// duration the loop logs: readable at a glance and stable to parse.
    var loggedMilliseconds: String {
        let (seconds, attoseconds) = components
        let micros = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        let sign = micros < 0 ? "-" : ""
        let magnitude = micros.magnitude
        let fraction = String(magnitude % 1000)
        return "\(sign)\(magnitude / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
