import Foundation
import Logging

/// A swift-log handler that writes one JSON object per line to standard
/// output: `{"time": ..., "level": ..., "label": ..., "message": ..., ...metadata}`,
/// for `linx apply --watch --json`. Metadata keeps its structure (nested
/// dictionaries and arrays), so a pass's failed ops arrive as a list.
struct JSONLinesLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: [String: Any] = [
            "time": Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)),
            "level": event.level.rawValue, "label": label, "message": event.message.description,
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) {
            object[key] = Self.json(value)
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        Self.lock.withLock {
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        }
    }

    private static let lock = NSLock()

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        // Numbers and flags stay JSON numbers and booleans.
        case .stringConvertible(let value as Int): value
        case .stringConvertible(let value as Bool): value
        case .stringConvertible(let value): value.description
        case .array(let values): values.map(json)
        case .dictionary(let values): values.mapValues(json)
        }
    }
}
