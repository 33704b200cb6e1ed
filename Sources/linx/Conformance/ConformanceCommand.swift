import ArgumentParser

// Placeholder so the root command can register the subcommand; the
// conformance work (issue 7) replaces this file.
struct ConformanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance", abstract: "Run the conformance suite (not built yet).")

    func run() async throws {
        print("linx conformance: not available in this build yet")
        throw ExitCode.failure
    }
}
