import ArgumentParser
import Foundation
import LinxConformance

/// Reads a `linx fuzz --json` result file for `linx fuzz merge`, saying in
/// plain words what is wrong with one that cannot be read (no such file, a
/// directory, not JSON, JSON of another shape) and where, instead of
/// Foundation's error text.
enum FuzzResultFile {
    static func read(_ path: String) throws -> [FuzzSummary] {
        func refuse(_ reason: String) -> ExitCode { FuzzOutput.failure("\(path): \(reason)") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw refuse("no such file") }
        guard !isDirectory.boolValue else { throw refuse("is a directory, not a `linx fuzz --json` result file") }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw refuse("cannot be read (\(readFailure(error)))")
        }
        guard !data.isEmpty else { throw refuse("is empty, not a `linx fuzz --json` result file") }
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw refuse("not valid JSON\(position(of: error, in: data))")
        }
        do {
            return try JSONDecoder().decode([FuzzSummary].self, from: data)
        } catch let error as DecodingError {
            throw refuse("not a `linx fuzz --json` result file: \(describe(error))")
        } catch {
            throw refuse("not a `linx fuzz --json` result file")
        }
    }

    private static func readFailure(_ error: any Error) -> String {
        switch (error as? CocoaError)?.code {
        case .fileReadNoPermission?: "permission denied"
        case .fileReadNoSuchFile?: "no such file"
        default: (error as NSError).localizedFailureReason ?? "read error"
        }
    }

    /// ` at line L, column C` when the parser says where it stopped (as a
    /// byte offset from 0: "around character 17").
    private static func position(of error: any Error, in data: Data) -> String {
        let text = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? ""
        guard let range = text.range(of: "character [0-9]+", options: .regularExpression),
            let offset = Int(text[range].dropFirst("character ".count)), offset <= data.count
        else { return "" }
        let before = data.prefix(offset)
        let line = before.count { $0 == UInt8(ascii: "\n") } + 1
        let column = offset - (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
        return " at line \(line), column \(column)"
    }

    private static func describe(_ error: DecodingError) -> String {
        func at(_ path: [any CodingKey]) -> String {
            let text = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? "the top level" : text.hasPrefix(".") ? String(text.dropFirst()) : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(at(context.codingPath + [key])) is missing"
        case .typeMismatch(let type, let context):
            return "\(at(context.codingPath)) is not \(kind(type))"
        case .valueNotFound(let type, let context):
            return "\(at(context.codingPath)) is null, not \(kind(type))"
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            // The text parsed as JSON, so the decoder (which says no more)
            // stopped at a number that does not fit where it is.
            return "a number in it does not fit its field (a negative, fractional or too large seed, digest or count)"
        case .dataCorrupted(let context):
            return "\(at(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func kind(_ type: Any.Type) -> String {
        switch type {
        case is any BinaryInteger.Type: "a whole number in range"
        case is Double.Type: "a number"
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is [Any].Type: "a list"
        default: type == [FuzzSummary].self ? "a list of results" : "an object"
        }
    }
}
