/// One structural event of a desired-state file, the same for YAML and
/// JSON: the decoders walk these instead of a tree, so a file is read in one
/// pass without holding a copy of its structure.
enum DocumentEvent: Sendable, Equatable {
    case mappingStart
    case mappingEnd
    case sequenceStart
    case sequenceEnd
    /// A scalar's text; `plain` when it was written without quotes (so that
    /// `~`, `null` and an empty plain value can mean "nothing").
    case scalar(String, plain: Bool)
    /// The end of the document.
    case end

    /// What the event is, for errors: "a mapping", "a list", "\"text\"".
    var summary: String {
        switch self {
        case .mappingStart, .mappingEnd: "a mapping"
        case .sequenceStart, .sequenceEnd: "a list"
        case .scalar(let text, _): "\"\(text.count > 40 ? text.prefix(40) + "..." : text)\""
        case .end: "the end of the document"
        }
    }
}

/// An event and the line (from 1) it starts on.
struct PositionedEvent: Sendable {
    var event: DocumentEvent
    var line: Int
}

/// A syntax error of the underlying format, with its line.
struct SyntaxError: Error {
    var line: Int?
    var reason: String
}
