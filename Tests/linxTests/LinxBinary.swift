import Foundation

/// Runs the built `linx` binary the way an operator does, in a scratch
/// directory that holds the simulated host and the state files.
struct LinxBinary {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// A fresh directory per test, removed by `cleanUp()`.
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("linx-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func cleanUp() { try? FileManager.default.removeItem(at: directory) }

    /// The test bundle sits in the build folder beside the linx binary.
    static let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("linx")

    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/examples")

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Writes `text` into the scratch directory and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }

    /// `linx ARGS` against the real kernel. A leading `--drop-to-nobody`
    /// runs it as user nobody through setpriv(1).
    func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        if arguments.first == "--drop-to-nobody" {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", Self.executable.path]
                + arguments.dropFirst()
        } else {
            process.executableURL = Self.executable
            process.arguments = arguments
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// `linx ARGS` against this test's persistent simulated host.
    func sim(_ arguments: [String]) throws -> Result {
        try run(arguments + ["--backend", "sim", "--sim-state", path("host.json")])
    }
}
