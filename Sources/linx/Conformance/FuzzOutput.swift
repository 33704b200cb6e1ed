import ArgumentParser
import Foundation

/// Where `linx fuzz` prints its report and writes its files.
///
/// Every output is checked before the command runs anything: a campaign can
/// take hours, and a bad `--junit` found at its end would lose them (and
/// leave the `--json` written beside no JUnit). A document sent to standard
/// output (`-`) takes standard output for itself, so the text report goes to
/// standard error and the document parses.
struct FuzzOutput {
    /// True when a document goes to standard output.
    let textToStandardError: Bool

    /// Checks what needs no file system: no empty path, at most one
    /// document on standard output, no file given for two outputs.
    static func validate(
        files: [(option: String, path: String)], directories: [(option: String, path: String)]
    ) throws(ValidationError) {
        for (option, path) in files + directories where path.isEmpty {
            throw ValidationError("\(option) needs a path\(files.contains { $0.option == option } ? " (or - for standard output)" : "")")
        }
        let toStandardOutput = files.filter { $0.path == "-" }.map(\.option)
        guard toStandardOutput.count <= 1 else {
            throw ValidationError("only one of \(list(toStandardOutput)) can be - (standard output): give the others a file")
        }
        var seen: [String: String] = [:]
        for (option, path) in files where path != "-" {
            let key = URL(fileURLWithPath: path).standardizedFileURL.path
            if let other = seen[key] { throw ValidationError("\(other) and \(option) name the same file, \(path)") }
            seen[key] = option
        }
    }

    /// Checks every file and directory against the file system (see
    /// ``AtomicJSON/checkWritable(_:)``); a bad one is reported and the
    /// command exits 2 before anything runs or is written.
    init(files: [(option: String, path: String)], directories: [(option: String, path: String)]) throws(ExitCode) {
        for (option, path) in files where path != "-" {
            do { try AtomicJSON.checkWritable(path) } catch { throw Self.failure("\(option) \(path): \(error.description)") }
        }
        for (option, path) in directories {
            do { try AtomicJSON.checkDirectory(path) } catch { throw Self.failure("\(option) \(path): \(error.description)") }
        }
        textToStandardError = files.contains { $0.path == "-" }
    }

    /// Prints `text` (its own newlines included) where the report goes.
    func say(_ text: String) {
        if textToStandardError {
            FileHandle.standardError.write(Data(text.utf8))
        } else {
            print(text, terminator: "")
        }
    }

    static func failure(_ message: String) -> ExitCode {
        printError("linx fuzz: \(message)")
        return ExitCode(2)
    }

    /// Writes `value` as pretty, key-sorted JSON to `path` ("-": standard output).
    static func write(_ value: some Encodable, json path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do {
            data = try encoder.encode(value)
        } catch {
            throw failure("cannot encode JSON for \(path): \(error)")
        }
        try write(String(decoding: data, as: UTF8.self) + "\n", to: path)
    }

    /// Writes `text` to `path` ("-": standard output), replacing the file
    /// atomically: an interrupted write leaves the previous file whole.
    static func write(_ text: String, to path: String) throws {
        if path == "-" {
            print(text, terminator: "")
            return
        }
        do {
            try AtomicJSON.replace(path, with: Data(text.utf8), permissions: 0o644)
        } catch {
            throw failure("cannot write \(path): \(error.description)")
        }
    }

    /// `--a`, `--a and --b`, `--a, --b and --c`.
    static func list(_ options: [String]) -> String {
        options.count <= 2 ? options.joined(separator: " and ") : options.dropLast().joined(separator: ", ") + " and " + options.last!
    }
}
