import LinxReconcile

/// Walks a file's events for the section decoders: mappings, lists and
/// scalars with their lines, recording the line of every entry in the
/// document's origin. Errors name the entry's path in the document.
struct DocumentReader {
    enum Input {
        case yaml(YAMLEvents)
        case fastYAML(YAMLFastEvents)
        case json(JSONEvents)
    }

    private let input: Input
    var origin: HostDocumentOrigin
    /// Whether ``entries(_:at:flat:_:)`` may read items through
    /// ``FlatMapping`` (off: every item through events, as a test's reference).
    let readsFlatItems: Bool

    init(_ input: Input, file: String, flatItems: Bool = true) {
        self.input = input
        origin = HostDocumentOrigin(file: file)
        readsFlatItems = flatItems
    }

    mutating func next() throws(HostDocumentError) -> PositionedEvent {
        do throws(SyntaxError) {
            switch input {
            case .yaml(let events): return try events.next()
            case .json(let events): return try events.next()
            case .fastYAML(let events):
                do { return try events.next() } catch {
                    // Never shown: the caller reads the file again with libyaml.
                    throw SyntaxError(line: nil, reason: "outside the YAML subset the fast scanner reads")
                }
            }
        } catch {
            throw HostDocumentError(file: origin.file, line: error.line, path: [], reason: error.reason)
        }
    }

    func fail(_ path: DesiredPath, _ line: Int?, _ reason: String) -> HostDocumentError {
        HostDocumentError(file: origin.file, line: line, path: path, reason: reason)
    }

    /// Reads the mapping that `start` opens, handing each key (its text and
    /// line) to `body`, which must read the key's value. With `unique`, a key
    /// given twice is refused.
    mutating func mapping(
        _ start: PositionedEvent, at path: @autoclosure () -> DesiredPath, unique: Bool = true,
        _ body: (inout DocumentReader, String, Int) throws(HostDocumentError) -> Void
    ) throws(HostDocumentError) {
        guard start.event == .mappingStart else {
            throw fail(path(), start.line, "expected a mapping (key: value), got \(start.event.summary)")
        }
        var seen = Set<String>()
        while true {
            let key = try next()
            switch key.event {
            case .mappingEnd: return
            case .scalar(let text, _):
                if unique && !seen.insert(text).inserted {
                    throw fail(path().appending(.key(text)), key.line, "\"\(text)\" given twice in one mapping")
                }
                try body(&self, text, key.line)
            default:
                throw fail(path(), key.line, "a key must be a single value, got \(key.event.summary)")
            }
        }
    }

    /// Reads the list that `start` opens, handing each item's first event
    /// and index to `body`, which must read the item.
    mutating func sequence(
        _ start: PositionedEvent, at path: @autoclosure () -> DesiredPath,
        _ body: (inout DocumentReader, PositionedEvent, Int) throws(HostDocumentError) -> Void
    ) throws(HostDocumentError) {
        guard start.event == .sequenceStart else {
            throw fail(path(), start.line, "expected a list, got \(start.event.summary)")
        }
        var index = 0
        while true {
            let item = try next()
            if item.event == .sequenceEnd { return }
            try body(&self, item, index)
            index += 1
        }
    }

    /// Reads the list that `start` opens, one entry an item, with each
    /// item's line: an item the scanner sees as a ``FlatMapping`` goes to
    /// `flat`, any other item, and one `flat` declines (nil), to `item` as
    /// ``sequence(_:at:_:)`` hands it (its first event and index). So `flat`
    /// must give exactly what `item` gives whenever it gives anything, and
    /// every error is `item`'s. A list of 65,536 routes is read this way
    /// without an event or string for its keys.
    mutating func entries<T>(
        _ start: PositionedEvent, at path: @autoclosure () -> DesiredPath, flat: (FlatMapping) -> T?,
        _ item: (inout DocumentReader, PositionedEvent, Int) throws(HostDocumentError) -> T
    ) throws(HostDocumentError) -> (entries: [T], lines: [Int32]) {
        guard start.event == .sequenceStart else {
            throw fail(path(), start.line, "expected a list, got \(start.event.summary)")
        }
        var entries: [T] = [], lines: [Int32] = []
        while true {
            if readsFlatItems, let (entry, line) = flatItem(flat) {
                lines.append(Int32(clamping: line))
                entries.append(entry)
                continue
            }
            let event = try next()
            if event.event == .sequenceEnd { return (entries, lines) }
            lines.append(Int32(clamping: event.line))
            entries.append(try item(&self, event, entries.count))
        }
    }

    private func flatItem<T>(_ decode: (FlatMapping) -> T?) -> (entry: T, line: Int)? {
        switch input {
        case .fastYAML(let events): events.flatItem(decode)
        case .json(let events): events.flatItem(decode)
        case .yaml: nil
        }
    }

    /// Reads one scalar value.
    mutating func scalar(at path: @autoclosure () -> DesiredPath) throws(HostDocumentError) -> (text: String, plain: Bool, line: Int) {
        let event = try next()
        guard case .scalar(let text, let plain) = event.event else {
            throw fail(path(), event.line, "expected a single value, got \(event.event.summary)")
        }
        return (text, plain, event.line)
    }

    /// Reads an optional scalar: `~`, `null` or nothing (unquoted) mean absent.
    mutating func optionalScalar(at path: @autoclosure () -> DesiredPath) throws(HostDocumentError) -> String? {
        let value = try scalar(at: path())
        if value.plain && (value.text.isEmpty || value.text == "~" || value.text == "null" || value.text == "Null" || value.text == "NULL") {
            return nil
        }
        return value.text
    }

    mutating func integer<T: FixedWidthInteger>(_ type: T.Type, at path: @autoclosure () -> DesiredPath) throws(HostDocumentError) -> T {
        let value = try scalar(at: path())
        guard let parsed = Int(value.text) else {
            throw fail(path(), value.line, "expected an integer, got \"\(value.text.prefix(40))\"")
        }
        guard let result = T(exactly: parsed) else {
            throw fail(path(), value.line, "out of range (\(T.min)...\(T.max))")
        }
        return result
    }

    mutating func bool(at path: @autoclosure () -> DesiredPath) throws(HostDocumentError) -> Bool {
        let value = try scalar(at: path())
        switch value.text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw fail(path(), value.line, "expected true or false, got \"\(value.text.prefix(40))\"")
        }
    }

    func unknown(_ key: String, line: Int, in path: DesiredPath, allowed: [String]) -> HostDocumentError {
        fail(path, line, "unknown key \"\(key.prefix(60))\" (expected one of: \(allowed.joined(separator: ", ")))")
    }
}
