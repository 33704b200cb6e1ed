/// A list item that is a mapping of scalars only (`{ destination: 10.0.0.1/32,
/// gateway: 10.0.0.1 }`), seen straight in the file's bytes before any event
/// or string is made for it: the form thousands of routes take. A decoder
/// that can use it whole builds its entry from it; one that cannot (a key it
/// does not know, one given twice, a value it would refuse) declines, and
/// the scanner hands out the item's events as usual, so every error still
/// comes from the event path (see ``DocumentReader/entries(_:at:flat:_:)``).
struct FlatMapping {
    /// One `key: value` pair: byte ranges into ``bytes`` (a quoted scalar's
    /// range excludes its quotes).
    struct Pair {
        var key: Range<Int>
        var value: Range<Int>
        /// Written without quotes (see ``DocumentEvent/scalar(_:plain:)``).
        var plain: Bool
    }

    /// The file.
    let bytes: UnsafeBufferPointer<UInt8>
    /// The item's pairs, in the order written.
    let pairs: UnsafeBufferPointer<Pair>

    /// Whether a key's text is `name`.
    func key(_ pair: Pair, is name: StaticString) -> Bool {
        guard pair.key.count == name.utf8CodeUnitCount else { return false }
        let start = name.utf8Start
        for k in 0..<pair.key.count where bytes[pair.key.lowerBound + k] != start[k] { return false }
        return true
    }

    /// A value's text, as its scalar event carries it.
    func text(_ pair: Pair) -> String {
        String(decoding: utf8(pair), as: UTF8.self)
    }

    /// A value's bytes.
    func utf8(_ pair: Pair) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[pair.value])
    }

    /// What `DocumentReader.optionalScalar` reads as absent: a plain `~`,
    /// `null` (any of its three spellings) or nothing.
    func isNull(_ pair: Pair) -> Bool {
        guard pair.plain else { return false }
        switch pair.value.count {
        case 0: return true
        case 1: return bytes[pair.value.lowerBound] == UInt8(ascii: "~")
        case 4:
            let text = text(pair)
            return text == "null" || text == "Null" || text == "NULL"
        default: return false
        }
    }

    /// The value as `DocumentReader.integer` reads it; nil where that throws.
    func integer<T: FixedWidthInteger>(_ pair: Pair, as type: T.Type) -> T? {
        Int(text(pair)).flatMap { T(exactly: $0) }
    }
}
