@testable import LinxKernelSim
import Testing

/// The simulator trims set types and elements with the reconciler's trim
/// (ASCII shortcut); checked against the Character loop it used before.
@Suite("simulator: trimming set types and elements")
struct SimTrimTests {
    /// The loop the simulator used (the reference).
    static func reference(_ text: String) -> String {
        var s = Substring(text)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }

    @Test("generated texts with ASCII and Unicode whitespace, CR LF, controls and combining marks")
    func sameAsLoop() {
        let pieces = ["a", "ipv4_addr", " ", "\t", "\r\n", "\n", "\u{0B}", "\u{1C}", "\u{85}", "\u{A0}", "\u{2028}", "\u{3000}", "\u{301}", "é", "10.0.0.1", ""]
        var random = SimRandom(seed: 99)
        var changed = 0
        for _ in 0..<5000 {
            let text = (0..<random.below(6)).map { _ in random.pick(pieces) }.joined()
            #expect(text.trimmed == Self.reference(text), "\(text.unicodeScalars.map(\.value))")
            if Self.reference(text) != text { changed += 1 }
        }
        #expect(changed > 1000)
    }
}
