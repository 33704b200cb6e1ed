/// JSON events from the file's bytes, in one forward scan that counts lines
/// (Foundation's JSON reader knows no lines, and builds a whole tree first).
///
/// Strict RFC 8259: no comments, no trailing commas, control characters in
/// strings must be escaped.
final class JSONEvents {
    private enum Frame { case object, array }

    private let bytes: [UInt8]
    private var position = 0
    private var line = 1
    private var stack: [Frame] = []
    /// A value just ended in the current container (or the document).
    private var afterValue = false
    /// In an object: a key was read, its value comes next.
    private var afterKey = false
    /// ``flatItem(_:)``'s pairs, kept to reuse their storage.
    private var flatPairs: [FlatMapping.Pair] = []

    init(bytes: [UInt8]) {
        self.bytes = bytes
        // A UTF-8 byte order mark is allowed before the text.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
    }

    func next() throws(SyntaxError) -> PositionedEvent {
        skipWhitespace()
        guard let top = stack.last else {
            if afterValue {
                guard position == bytes.count else { throw error("unexpected text after the document") }
                return PositionedEvent(event: .end, line: line)
            }
            // An empty file declares nothing, as an empty YAML file does.
            if position == bytes.count { afterValue = true; return PositionedEvent(event: .end, line: line) }
            return try value()
        }
        switch top {
        case .object:
            if afterKey {
                guard peek == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
                position += 1
                afterKey = false
                skipWhitespace()
                return try value()
            }
            if afterValue {
                if peek == UInt8(ascii: "}") { return close(.mappingEnd) }
                guard peek == UInt8(ascii: ",") else { throw error("expected ',' or '}'") }
                position += 1
                skipWhitespace()
            } else if peek == UInt8(ascii: "}") {
                return close(.mappingEnd)
            }
            guard peek == UInt8(ascii: "\"") else { throw error("expected a key in double quotes") }
            let start = line
            let key = try string()
            afterKey = true
            afterValue = false
            return PositionedEvent(event: .scalar(key, plain: false), line: start)
        case .array:
            if afterValue {
                if peek == UInt8(ascii: "]") { return close(.sequenceEnd) }
                guard peek == UInt8(ascii: ",") else { throw error("expected ',' or ']'") }
                position += 1
                skipWhitespace()
            } else if peek == UInt8(ascii: "]") {
                return close(.sequenceEnd)
            }
            return try value()
        }
    }

    /// The next array element when it is an object of plain values (strings
    /// without escapes, digit-only numbers, `true`, `false`, `null`) and
    /// `decode` accepts it: its entry and the line of its `{`, the object
    /// consumed. Otherwise nil, and nothing is consumed: ``next()`` then
    /// reads the element as usual (so whatever it gives or refuses is what it
    /// gave before).
    func flatItem<T>(_ decode: (FlatMapping) -> T?) -> (entry: T, line: Int)? {
        guard stack.last == .array, !afterKey else { return nil }
        let (savedPosition, savedLine) = (position, line)
        guard let entry = scanFlatItem(decode) else {
            (position, line) = (savedPosition, savedLine)
            return nil
        }
        afterValue = true
        return entry
    }

    private func scanFlatItem<T>(_ decode: (FlatMapping) -> T?) -> (entry: T, line: Int)? {
        skipWhitespace()
        if afterValue {
            guard peek == UInt8(ascii: ",") else { return nil }
            position += 1
            skipWhitespace()
        }
        guard peek == UInt8(ascii: "{") else { return nil }
        let start = line
        position += 1
        flatPairs.removeAll(keepingCapacity: true)
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\""), let key = plainString() else { return nil }
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { return nil }
            position += 1
            skipWhitespace()
            let value: Range<Int>, plain: Bool
            if peek == UInt8(ascii: "\"") {
                guard let text = plainString() else { return nil }
                (value, plain) = (text, false)
            } else {
                guard let word = flatWord() else { return nil }
                (value, plain) = (word, true)
            }
            flatPairs.append(FlatMapping.Pair(key: key, value: value, plain: plain))
            skipWhitespace()
            if peek == UInt8(ascii: "}") { break }
            guard peek == UInt8(ascii: ",") else { return nil }
            position += 1
        }
        position += 1
        let entry = bytes.withUnsafeBufferPointer { bytes in
            flatPairs.withUnsafeBufferPointer { pairs in decode(FlatMapping(bytes: bytes, pairs: pairs)) }
        }
        return entry.map { ($0, start) }
    }

    /// A string without escapes or control characters at `position` (on its
    /// opening quote): the range of its text; nil for any other.
    private func plainString() -> Range<Int>? {
        let begin = position + 1
        var end = begin
        while end < bytes.count {
            let b = bytes[end]
            if b == UInt8(ascii: "\"") {
                position = end + 1
                return begin..<end
            }
            if b == UInt8(ascii: "\\") || b < 0x20 { return nil }
            end += 1
        }
        return nil
    }

    /// A bare word that ``value()`` reads as a scalar: `true`, `false`,
    /// `null` (its text then empty, as there) or digits; nil for any other
    /// (other numbers too: ``value()`` checks those).
    private func flatWord() -> Range<Int>? {
        let begin = position
        while let b = peek, Self.isWordByte(b) { position += 1 }
        let word = bytes[begin..<position]
        guard !word.isEmpty else { return nil }
        if word.elementsEqual("null".utf8) { return begin..<begin }
        if word.elementsEqual("true".utf8) || word.elementsEqual("false".utf8) { return begin..<position }
        return word.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) ? begin..<position : nil
    }

    private var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    private func close(_ event: DocumentEvent) -> PositionedEvent {
        position += 1
        stack.removeLast()
        afterValue = true
        return PositionedEvent(event: event, line: line)
    }

    private func value() throws(SyntaxError) -> PositionedEvent {
        let start = line
        guard let byte = peek else { throw error("unexpected end of the file") }
        switch byte {
        case UInt8(ascii: "{"):
            position += 1
            stack.append(.object)
            afterValue = false
            return PositionedEvent(event: .mappingStart, line: start)
        case UInt8(ascii: "["):
            position += 1
            stack.append(.array)
            afterValue = false
            return PositionedEvent(event: .sequenceStart, line: start)
        case UInt8(ascii: "\""):
            let text = try string()
            afterValue = true
            return PositionedEvent(event: .scalar(text, plain: false), line: start)
        default:
            // A number, true, false or null: the bare word, checked by whoever reads it.
            let begin = position
            while let b = peek, Self.isWordByte(b) { position += 1 }
            guard position > begin else { throw error("unexpected character '\(Unicode.Scalar(byte))'") }
            let word = String(decoding: bytes[begin..<position], as: UTF8.self)
            guard word == "true" || word == "false" || word == "null" || Self.isNumber(word) else {
                throw error("unexpected word \"\(word.prefix(40))\"")
            }
            afterValue = true
            return PositionedEvent(event: .scalar(word == "null" ? "" : word, plain: true), line: start)
        }
    }

    private static func isWordByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
            || b == UInt8(ascii: "-") || b == UInt8(ascii: "+") || b == UInt8(ascii: ".") || b == UInt8(ascii: "E")
    }

    private static func isNumber(_ word: String) -> Bool {
        var utf8 = Substring(word).utf8[...]
        if utf8.first == UInt8(ascii: "-") { utf8 = utf8.dropFirst() }
        guard let first = utf8.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { return false }
        return Double(word) != nil
    }

    private func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "\n"): line += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): break
            default: return
            }
            position += 1
        }
    }

    /// A string at `position` (on its opening quote).
    private func string() throws(SyntaxError) -> String {
        position += 1
        let begin = position
        // Fast path: no escapes.
        while position < bytes.count {
            let b = bytes[position]
            if b == UInt8(ascii: "\"") {
                position += 1
                return String(decoding: bytes[begin..<(position - 1)], as: UTF8.self)
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error("a control character in a string must be escaped") }
            position += 1
        }
        var result = Array(bytes[begin..<position])
        while position < bytes.count {
            let b = bytes[position]
            position += 1
            switch b {
            case UInt8(ascii: "\""):
                return String(decoding: result, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let escape = peek else { break }
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): result.append(escape)
                case UInt8(ascii: "b"): result.append(0x08)
                case UInt8(ascii: "f"): result.append(0x0C)
                case UInt8(ascii: "n"): result.append(0x0A)
                case UInt8(ascii: "r"): result.append(0x0D)
                case UInt8(ascii: "t"): result.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard peek == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else {
                            throw error("an unpaired surrogate in \\u escape")
                        }
                        position += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("an unpaired surrogate in \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw error("an invalid \\u escape") }
                    result.append(contentsOf: Array(String(Character(unicode)).utf8))
                default: throw error("an invalid escape \\\(Unicode.Scalar(escape))")
                }
            default:
                if b < 0x20 { throw error("a control character in a string must be escaped") }
                result.append(b)
            }
        }
        throw error("a string is not closed")
    }

    private func hex4() throws(SyntaxError) -> UInt32 {
        guard position + 4 <= bytes.count,
              let value = UInt32(String(decoding: bytes[position..<(position + 4)], as: UTF8.self), radix: 16)
        else { throw error("an invalid \\u escape") }
        position += 4
        return value
    }

    private func error(_ reason: String) -> SyntaxError {
        SyntaxError(line: line, reason: "not valid JSON: \(reason)")
    }
}
