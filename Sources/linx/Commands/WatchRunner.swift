import LinxReconcile

/// `linx apply --watch` (filled in once the reconcile loop lands).
struct WatchRunner {
    let host: Host
    let document: HostDocument
    let stateFile: StateFile
    let interval: Double

    func run(from state: HostState) async throws {
        throw CommandError("--watch is not available in this build yet")
    }
}
