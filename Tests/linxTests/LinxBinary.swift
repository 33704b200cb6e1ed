import Foundation
import LinxLinux
import LinxTestSupport

/// Runs the built `linx` binary the way an operator does, in a scratch
/// directory that holds the simulated host and the state files.
///
/// The scratch directory is world-readable, outside the checkout: a run as
/// user nobody (`--drop-to-nobody`) gets a copy of the binary and of every
/// file it needs there, so the tests pass wherever the checkout lives (a
/// clone under a 0700 `mktemp -d` is not readable by nobody).
struct LinxBinary {
    typealias Result = Command.Output

    /// A fresh directory per test, removed by `cleanUp()`.
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("linx-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
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
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path(name))
        return path(name)
    }

    /// Copies `Fixtures/examples/NAME` into the scratch directory (readable by
    /// any user) and returns the copy's path.
    func example(_ name: String) throws -> String {
        try write(name, String(contentsOf: Self.examples.appendingPathComponent(name), encoding: .utf8))
    }

    /// `linx ARGS` against the real kernel. A leading `--drop-to-nobody`
    /// runs a copy of it (in the scratch directory) as user nobody through setpriv(1).
    func run(_ arguments: [String]) throws -> Result {
        Command.run(try commandLine(arguments))
    }

    /// `linx ARGS` started in the background; see ``Command/Running``.
    func start(_ arguments: [String]) throws -> Command.Running {
        guard let running = Command.start(try commandLine(arguments)) else {
            throw CocoaError(.executableLoad, userInfo: [NSFilePathErrorKey: Self.executable.path])
        }
        return running
    }

    private func commandLine(_ arguments: [String]) throws -> [String] {
        guard arguments.first == "--drop-to-nobody" else { return [Self.executable.path] + arguments }
        let copy = path("linx")
        if !FileManager.default.fileExists(atPath: copy) {
            // Copied by install(1), not in this process: a write descriptor
            // open here would be inherited by a child another test spawns at
            // that moment, and exec of the copy would fail with ETXTBSY.
            try Command.check(["install", "-m", "0755", Self.executable.path, copy])
        }
        return ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", copy] + arguments.dropFirst()
    }

    /// `linx ARGS` against this test's persistent simulated host.
    func sim(_ arguments: [String]) throws -> Result {
        try run(arguments + ["--backend", "sim", "--sim-state", path("host.json")])
    }
}
