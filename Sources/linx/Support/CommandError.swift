import ArgumentParser
import LinxReconcile

/// A failure the command reports as one line on standard error, exiting 1.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a command body, turning any error into one line on standard error
/// and exit status 1; exit codes pass through. Every error is caught here,
/// not only the expected ones, so that nothing reaches ArgumentParser's
/// generic `Error:` output.
func runReportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch let error as KernelError {
        printError("linx: kernel refused: \(error)")
        throw ExitCode.failure
    } catch {
        printError("linx: \(error)")
        throw ExitCode.failure
    }
}
