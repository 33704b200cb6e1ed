import CYAML
import Foundation

/// YAML events from libyaml's streaming parser: the whole of YAML, for the
/// files ``YAMLFastEvents`` does not read, and every YAML error message.
///
/// Aliases are refused: a desired state has no use for them, and expanding
/// them is how a small file becomes a huge one.
final class YAMLEvents {
    private var parser = yaml_parser_t()
    private let bytes: UnsafeMutableRawBufferPointer
    private var finished = false

    /// Events of `text`.
    init(text: some Collection<UInt8>) {
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(text.count, 1), alignment: 1)
        _ = bytes.initializeMemory(as: UInt8.self, from: text)
        self.bytes = bytes
        yaml_parser_initialize(&parser)
        yaml_parser_set_input_string(&parser, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), text.count)
    }

    deinit {
        yaml_parser_delete(&parser)
        bytes.deallocate()
    }

    /// The next structural event; stream and document markers are skipped.
    func next() throws(SyntaxError) -> PositionedEvent {
        while true {
            if finished { return PositionedEvent(event: .end, line: Int(parser.mark.line) + 1) }
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else {
                let problem = parser.problem.map { String(cString: $0) } ?? "unreadable"
                let context = parser.context.map { String(cString: $0) + " " } ?? ""
                throw SyntaxError(line: Int(parser.problem_mark.line) + 1, reason: "not valid YAML or JSON: \(context)\(problem)")
            }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1
            switch event.type {
            case YAML_MAPPING_START_EVENT: return PositionedEvent(event: .mappingStart, line: line)
            case YAML_MAPPING_END_EVENT: return PositionedEvent(event: .mappingEnd, line: line)
            case YAML_SEQUENCE_START_EVENT: return PositionedEvent(event: .sequenceStart, line: line)
            case YAML_SEQUENCE_END_EVENT: return PositionedEvent(event: .sequenceEnd, line: line)
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
                return PositionedEvent(event: .scalar(text, plain: scalar.style == YAML_PLAIN_SCALAR_STYLE), line: line)
            case YAML_ALIAS_EVENT:
                throw SyntaxError(line: line, reason: "YAML aliases (*name) are not supported in a desired-state file")
            case YAML_DOCUMENT_START_EVENT:
                continue
            case YAML_DOCUMENT_END_EVENT:
                // One document per file: a second one is an error, not ignored.
                var peek = yaml_event_t()
                guard yaml_parser_parse(&parser, &peek) == 1 else { continue }
                defer { yaml_event_delete(&peek) }
                if peek.type == YAML_DOCUMENT_START_EVENT {
                    throw SyntaxError(line: Int(peek.start_mark.line) + 1, reason: "a second YAML document (---): a file holds one")
                }
                finished = true
            case YAML_STREAM_END_EVENT:
                finished = true
            default:
                continue
            }
        }
    }
}
