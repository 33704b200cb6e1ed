/// YAML events for the shape desired-state files take, scanned straight
/// from the file's bytes: about five times faster than libyaml, whose token
/// queue allocates for every scalar (a file of 65,536 routes is 400,000
/// events).
///
/// Only a strict subset is read: block mappings and sequences indented with
/// spaces, one-line flow mappings of scalars (`{ destination: 10.0.0.0/8,
/// gateway: 10.0.0.1 }`), `[]` and `{}`, one-line plain and quoted scalars
/// without escapes, and comments. Anything else (a tab, an anchor, a tag, a
/// block scalar, a multi-line or escaped scalar, a flow sequence, an empty
/// value, a document marker, a byte outside printable ASCII, and every
/// syntax error) throws ``Unsupported``, and the caller reads the file
/// again with libyaml (``YAMLEvents``), which then has the last word: this
/// scanner never reports a syntax error of its own. On what it accepts it
/// gives the events and lines libyaml gives (a test compares the two).
final class YAMLFastEvents {
    /// The file is outside the subset; read it with libyaml.
    struct Unsupported: Error {}

    private struct Block {
        var isSequence: Bool
        var indent: Int
        /// A sequence written at its parent key's own indent (`routes:\n- ...`).
        var indentless: Bool
    }

    private let bytes: [UInt8]
    /// The start of the next line.
    private var position = 0
    /// The line being scanned, from 1.
    private var line = 0
    private var stack: [Block] = []
    /// Events of the current line not yet handed out.
    private var queue: [PositionedEvent] = []
    private var head = 0
    /// The indent of the mapping whose last key's value starts on a later line.
    private var awaiting: Int?
    private var started = false
    private var ended = false
    /// ``flatItem(_:)``'s pairs, kept to reuse their storage.
    private var flatPairs: [FlatMapping.Pair] = []

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    func next() throws(Unsupported) -> PositionedEvent {
        while head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
            try scanLine()
        }
        head += 1
        return queue[head - 1]
    }

    /// The next line when it is a sequence item of the open sequence written
    /// as a one-line flow mapping of scalars (`- { key: value, ... }`), and
    /// `decode` accepts it: its entry and line, the line consumed. Otherwise
    /// nil, and nothing is consumed: ``next()`` then scans the line as usual
    /// (so whatever it gives or refuses is exactly what it gave before).
    func flatItem<T>(_ decode: (FlatMapping) -> T?) -> (entry: T, line: Int)? {
        guard head == queue.count, !ended, awaiting == nil, let top = stack.last, top.isSequence,
            position < bytes.count
        else { return nil }
        // The checks of scanLine, open and item, for a line at the sequence's indent.
        let start = position
        var end = start
        while end < bytes.count && bytes[end] != UInt8(ascii: "\n") {
            guard bytes[end] >= 0x20 && bytes[end] < 0x7F else { return nil }
            end += 1
        }
        let dash = start + top.indent
        guard dash + 1 < end, bytes[dash] == UInt8(ascii: "-"), bytes[dash + 1] == UInt8(ascii: " ") else { return nil }
        for k in start..<dash where bytes[k] != UInt8(ascii: " ") { return nil }
        var i = dash + 1
        while i < end && bytes[i] == UInt8(ascii: " ") { i += 1 }
        guard i < end, bytes[i] == UInt8(ascii: "{") else { return nil }
        // flowMapping's scan, keeping ranges.
        flatPairs.removeAll(keepingCapacity: true)
        i += 1
        while true {
            while i < end && bytes[i] == UInt8(ascii: " ") { i += 1 }
            guard i < end, bytes[i] != UInt8(ascii: "}") else { return nil }  // `{}` and a trailing comma: the event path
            guard let key = try? scalarSpan(at: i, end: end, flow: true, key: true),
                key.after + 1 < end, bytes[key.after] == UInt8(ascii: ":"), bytes[key.after + 1] == UInt8(ascii: " ")
            else { return nil }
            i = key.after + 2
            while i < end && bytes[i] == UInt8(ascii: " ") { i += 1 }
            guard i < end, let value = try? scalarSpan(at: i, end: end, flow: true, key: false) else { return nil }
            flatPairs.append(FlatMapping.Pair(key: key.text, value: value.text, plain: value.plain))
            i = value.after
            while i < end && bytes[i] == UInt8(ascii: " ") { i += 1 }
            guard i < end else { return nil }
            if bytes[i] == UInt8(ascii: "}") { break }
            guard bytes[i] == UInt8(ascii: ",") else { return nil }
            i += 1
        }
        // rest(after:): only spaces and a comment.
        var j = i + 1
        while j < end && bytes[j] == UInt8(ascii: " ") { j += 1 }
        guard j == end || (j > i + 1 && bytes[j] == UInt8(ascii: "#")) else { return nil }
        let entry = bytes.withUnsafeBufferPointer { bytes in
            flatPairs.withUnsafeBufferPointer { pairs in decode(FlatMapping(bytes: bytes, pairs: pairs)) }
        }
        guard let entry else { return nil }
        line += 1
        position = end + 1
        return (entry, line)
    }

    private func emit(_ event: DocumentEvent) {
        queue.append(PositionedEvent(event: event, line: line))
    }

    private func scanLine() throws(Unsupported) {
        if ended { return emit(.end) }
        guard position < bytes.count else {
            guard awaiting == nil else { throw Unsupported() }
            line += 1
            while let block = stack.popLast() { emit(block.isSequence ? .sequenceEnd : .mappingEnd) }
            ended = true
            return emit(.end)
        }
        line += 1
        let start = position
        var end = start
        while end < bytes.count && bytes[end] != UInt8(ascii: "\n") {
            // Printable ASCII only: no tab, no CR, no UTF-8 (libyaml decides those).
            guard bytes[end] >= 0x20 && bytes[end] < 0x7F else { throw Unsupported() }
            end += 1
        }
        position = end + 1
        var i = start
        while i < end && bytes[i] == UInt8(ascii: " ") { i += 1 }
        if i == end || bytes[i] == UInt8(ascii: "#") { return }
        let indent = i - start
        if indent == 0 && end - i >= 3 && (startsWith("---", at: i) || startsWith("...", at: i)) { throw Unsupported() }
        let isDash = isIndicator(UInt8(ascii: "-"), at: i, end: end)
        try open(indent: indent, isDash: isDash)
        if isDash {
            try item(at: i + 1, end: end, indent: indent)
        } else {
            try keyValue(at: i, end: end, indent: indent)
        }
    }

    private func startsWith(_ text: StaticString, at i: Int) -> Bool {
        for k in 0..<text.utf8CodeUnitCount where bytes[i + k] != text.utf8Start[k] { return false }
        return true
    }

    /// `c` followed by a space or the end of the line.
    private func isIndicator(_ c: UInt8, at i: Int, end: Int) -> Bool {
        bytes[i] == c && (i + 1 == end || bytes[i + 1] == UInt8(ascii: " "))
    }

    /// Closes the blocks a line at `indent` ends and opens the one it starts.
    private func open(indent: Int, isDash: Bool) throws(Unsupported) {
        if let parent = awaiting {
            awaiting = nil
            if indent > parent {
                stack.append(Block(isSequence: isDash, indent: indent, indentless: false))
            } else if indent == parent && isDash {
                stack.append(Block(isSequence: true, indent: indent, indentless: true))
            } else {
                throw Unsupported()  // an empty value
            }
            return emit(isDash ? .sequenceStart : .mappingStart)
        }
        if stack.isEmpty {
            guard !started, !isDash else { throw Unsupported() }
            started = true
            stack.append(Block(isSequence: false, indent: indent, indentless: false))
            return emit(.mappingStart)
        }
        while let top = stack.last, top.indent > indent || (top.indentless && top.indent == indent && !isDash) {
            stack.removeLast()
            emit(top.isSequence ? .sequenceEnd : .mappingEnd)
        }
        guard let top = stack.last, top.indent == indent, top.isSequence == isDash else { throw Unsupported() }
    }

    /// A sequence item after its `-`.
    private func item(at dash: Int, end: Int, indent: Int) throws(Unsupported) {
        var i = dash
        while i < end && bytes[i] == UInt8(ascii: " ") { i += 1 }
        guard i < end, bytes[i] != UInt8(ascii: "#") else { throw Unsupported() }  // the item on later lines
        switch bytes[i] {
        case UInt8(ascii: "{"):
            try rest(after: flowMapping(at: i, end: end), end: end)
        default:
            // `- key: value`: a mapping, indented where its first key is (a
            // bare scalar item is not read here).
            let (text, plain, after) = try scalar(at: i, end: end, flow: false, key: true)
            guard after < end, bytes[after] == UInt8(ascii: ":") else { throw Unsupported() }
            let column = indent + i - (dash - 1)
            stack.append(Block(isSequence: false, indent: column, indentless: false))
            emit(.mappingStart)
            emit(.scalar(text, plain: plain))
            try value(at: after + 1, end: end, mappingIndent: column)
        }
    }

    /// `key: value` or `key:` at the start of a line.
    private func keyValue(at i: Int, end: Int, indent: Int) throws(Unsupported) {
        let (text, plain, after) = try scalar(at: i, end: end, flow: false, key: true)
        guard after < end, bytes[after] == UInt8(ascii: ":") else { throw Unsupported() }
        emit(.scalar(text, plain: plain))
        try value(at: after + 1, end: end, mappingIndent: indent)
    }

    /// The value after a block key's `:` (at `i`, just past it).
    private func value(at colonEnd: Int, end: Int, mappingIndent: Int) throws(Unsupported) {
        var i = colonEnd
        guard i == end || bytes[i] == UInt8(ascii: " ") else { throw Unsupported() }
        while i < end && bytes[i] == UInt8(ascii: " ") { i += 1 }
        if i == end || bytes[i] == UInt8(ascii: "#") {
            awaiting = mappingIndent
            return
        }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            try rest(after: flowMapping(at: i, end: end), end: end)
        case UInt8(ascii: "["):
            guard i + 1 < end, bytes[i + 1] == UInt8(ascii: "]") else { throw Unsupported() }
            emit(.sequenceStart)
            emit(.sequenceEnd)
            try rest(after: i + 2, end: end)
        default:
            let (text, plain, after) = try scalar(at: i, end: end, flow: false, key: false)
            emit(.scalar(text, plain: plain))
            try rest(after: after, end: end)
        }
    }

    /// Only spaces and a comment may follow.
    private func rest(after i: Int, end: Int) throws(Unsupported) {
        var j = i
        while j < end && bytes[j] == UInt8(ascii: " ") { j += 1 }
        guard j == end || (j > i && bytes[j] == UInt8(ascii: "#")) else { throw Unsupported() }
    }

    /// `{ key: value, ... }` on one line; returns the index after `}`.
    private func flowMapping(at open: Int, end: Int) throws(Unsupported) -> Int {
        emit(.mappingStart)
        var i = open + 1
        var first = true
        while true {
            while i < end && bytes[i] == UInt8(ascii: " ") { i += 1 }
            guard i < end else { throw Unsupported() }
            if bytes[i] == UInt8(ascii: "}") {
                guard first else { throw Unsupported() }  // a trailing comma
                emit(.mappingEnd)
                return i + 1
            }
            first = false
            let (key, keyPlain, afterKey) = try scalar(at: i, end: end, flow: true, key: true)
            guard afterKey + 1 < end, bytes[afterKey] == UInt8(ascii: ":"), bytes[afterKey + 1] == UInt8(ascii: " ")
            else { throw Unsupported() }
            i = afterKey + 2
            while i < end && bytes[i] == UInt8(ascii: " ") { i += 1 }
            guard i < end else { throw Unsupported() }
            let (text, plain, after) = try scalar(at: i, end: end, flow: true, key: false)
            emit(.scalar(key, plain: keyPlain))
            emit(.scalar(text, plain: plain))
            i = after
            while i < end && bytes[i] == UInt8(ascii: " ") { i += 1 }
            guard i < end else { throw Unsupported() }
            if bytes[i] == UInt8(ascii: "}") {
                emit(.mappingEnd)
                return i + 1
            }
            guard bytes[i] == UInt8(ascii: ",") else { throw Unsupported() }
            i += 1
        }
    }

    /// A one-line scalar at `i`: its text, whether plain, and the index
    /// after it. A key ends at a `:` followed by a space or the line's end
    /// (returned on that `:`); a value ends at the line's end (or, in a flow
    /// mapping, at a space, `,` or `}`), a comment cut off.
    private func scalar(at i: Int, end: Int, flow: Bool, key: Bool) throws(Unsupported) -> (String, Bool, Int) {
        let span = try scalarSpan(at: i, end: end, flow: flow, key: key)
        return (String(decoding: bytes[span.text], as: UTF8.self), span.plain, span.after)
    }

    /// ``scalar(at:end:flow:key:)`` without its string: the text's byte range.
    private func scalarSpan(
        at i: Int, end: Int, flow: Bool, key: Bool
    ) throws(Unsupported) -> (text: Range<Int>, plain: Bool, after: Int) {
        let first = bytes[i]
        if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") {
            var j = i + 1
            while j < end && bytes[j] != first {
                if first == UInt8(ascii: "\"") && bytes[j] == UInt8(ascii: "\\") { throw Unsupported() }
                j += 1
            }
            guard j < end else { throw Unsupported() }  // continues on the next line
            if first == UInt8(ascii: "'") && j + 1 < end && bytes[j + 1] == UInt8(ascii: "'") { throw Unsupported() }
            return ((i + 1)..<j, false, j + 1)
        }
        switch first {
        case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "["),
            UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "#"), UInt8(ascii: "&"),
            UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"), UInt8(ascii: ">"), UInt8(ascii: "%"),
            UInt8(ascii: "@"), UInt8(ascii: "`"):
            throw Unsupported()
        default: break
        }
        var j = i
        var last = i  // after the last non-space byte
        while j < end {
            let b = bytes[j]
            if b == UInt8(ascii: ":") {
                let next = j + 1 < end ? bytes[j + 1] : UInt8(ascii: " ")
                if next == UInt8(ascii: " ") {
                    guard key else { throw Unsupported() }  // `a: b: c`
                    break
                }
                if flow && (next == UInt8(ascii: ",") || next == UInt8(ascii: "?") || next == UInt8(ascii: "[")
                    || next == UInt8(ascii: "]") || next == UInt8(ascii: "{") || next == UInt8(ascii: "}")) {
                    throw Unsupported()
                }
            } else if b == UInt8(ascii: " ") {
                if key || flow { break }
                if j + 1 < end && bytes[j + 1] == UInt8(ascii: "#") { break }
            } else if b == UInt8(ascii: ",") || b == UInt8(ascii: "}") {
                if flow { break }
                throw Unsupported()
            } else if b == UInt8(ascii: "[") || b == UInt8(ascii: "]") || b == UInt8(ascii: "{")
                || (b == UInt8(ascii: "#") && j > i && bytes[j - 1] == UInt8(ascii: " ")) {
                throw Unsupported()
            }
            j += 1
            if b != UInt8(ascii: " ") { last = j }
        }
        // A simple key longer than 1,024 characters is libyaml's error.
        guard last > i, !key || last - i < 1000 else { throw Unsupported() }
        if key {
            // The key must be followed by its `:` (spaces inside a key are not read here).
            guard j < end, bytes[j] == UInt8(ascii: ":") || flow else { throw Unsupported() }
        }
        return (i..<last, true, key ? j : last)
    }
}
