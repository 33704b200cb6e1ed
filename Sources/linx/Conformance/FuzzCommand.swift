import ArgumentParser

// Placeholder so the root command can register the subcommand; the
// fuzz work (issue 7) replaces this file.
struct FuzzCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz", abstract: "Fuzz convergence (not built yet).")

    func run() async throws {
        print("linx fuzz: not available in this build yet")
        throw ExitCode.failure
    }
}
