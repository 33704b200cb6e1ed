import ArgumentParser
import Glibc
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

    /// Parses and runs the command, as ArgumentParser's own `main` does, after
    /// one allocator setting for a short-lived process that holds a few large
    /// arrays (65,536 desired, resolved and dumped routes): a fixed mmap
    /// threshold, so every array above 256 KiB is its own mapping, returned to
    /// the system when freed. glibc otherwise raises the threshold after the
    /// first such free and keeps the next arrays in its heaps, one per thread
    /// that allocated them (measured: 67 MiB peak for a no-op apply of 65,536
    /// routes, 58 MiB with the setting; Benchmarks/linx-cli).
    static func main() async {
        setMmapThreshold(256 << 10)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print versions and exit.")
    func run() {
        print("linx 0.1.0 (libnl \(LinxLinux.libnlVersion))")
    }
}

/// glibc's `mallopt(M_MMAP_THRESHOLD, bytes)`. `<malloc.h>` is not in the
/// Glibc module, so the symbol is looked up; on another C library it is absent
/// and nothing changes.
private func setMmapThreshold(_ bytes: Int32) {
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD in <malloc.h>
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
    _ = unsafeBitCast(symbol, to: Mallopt.self)(mmapThreshold, bytes)
}
