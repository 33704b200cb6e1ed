import ArgumentParser
import LinxLinux
import LinxReconcile

@main
struct Linx: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linx",
        abstract: "Keep Linux kernel state converged on a declared desired state.",
        subcommands: [
            PlanCommand.self, ApplyCommand.self, ShowCommand.self, MonitorCommand.self,
            ConformanceCommand.self, FuzzCommand.self, FidelityCommand.self, SimCommand.self, Version.self,
        ]
    )
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print versions and exit.")
    func run() {
        print("linx 0.1.0 (libnl \(LinxLinux.libnlVersion))")
    }
}
