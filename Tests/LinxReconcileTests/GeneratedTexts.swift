/// `count` texts of up to `maxPieces - 1` of `pieces` each, drawn by
/// SplitMix64 from `seed`: deterministic, so a failing text replays. The
/// fast-path tests compare byte-level shortcuts with the general paths on
/// them.
func generatedTexts(from pieces: [String], count: Int, maxPieces: UInt64, seed: UInt64) -> [String] {
    var state = seed
    func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    return (0..<count).map { _ in
        (0..<Int(next() % maxPieces)).map { _ in pieces[Int(next() % UInt64(pieces.count))] }.joined()
    }
}
