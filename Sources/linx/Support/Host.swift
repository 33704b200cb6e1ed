import Foundation
import LinxHost
import LinxKernelSim
import LinxLinux
import LinxReconcile

/// The kernel a command acts on, chosen by `--backend`, with the checks that
/// turn the usual operator mistakes into one clear line before anything runs.
struct Host {
    typealias Backend = HostReconciler.Backend

    let backend: any Backend
    let scope: NetnsScope
    /// Where ownership is kept when `--state` does not say: beside the real
    /// kernel's /var/lib/linx, beside a `--sim-state` file, or nowhere for a
    /// simulated host that lives only as long as the command.
    private let defaultStatePath: String?
    /// The scope every state file this command uses must belong to.
    private let stateScope: StateScope
    private let sim: (file: SimHostFile, path: String, kernel: JournalingSimKernel, lock: StateLock?)?

    /// Opens the backend. `needsRoot` is for commands that change the kernel;
    /// such a command also locks a `--sim-state` file (see ``StateLock``)
    /// before reading it, for as long as the host lives.
    static func open(_ backend: BackendOptions, _ scope: ScopeOptions, needsRoot: Bool) async throws -> Host {
        switch backend.backend {
        case .kernel:
            let entersNamespace = scope.scope != .current
            if (needsRoot || entersNamespace) && geteuid() != 0 {
                throw CommandError(
                    needsRoot
                        ? "this changes the kernel and must run as root (or try it with --backend sim)"
                        : "entering another network namespace needs root (or try it with --backend sim)")
            }
            try checkNamespaceExists(scope.scope)
            let kernel = LinuxKernel()
            let identity: NetnsIdentity
            do {
                identity = try await kernel.identity(of: scope.scope)
            } catch {
                throw CommandError("cannot identify the \(scope.scope): \(error)")
            }
            return Host(
                backend: kernel, scope: scope.scope,
                defaultStatePath: StateFile.defaultPath(forScope: scope.slug),
                stateScope: StateScope(backend: .kernel, netns: scope.scope.description, identity: identity), sim: nil)
        case .sim:
            let path = backend.simState ?? ""
            if !path.isEmpty {
                do { try RegularFile.check(path) } catch {
                    throw CommandError("cannot read the simulated host \(path): \(error.description)")
                }
            }
            let lock = needsRoot && !path.isEmpty ? try StateLock.acquire(path, what: "simulated host") : nil
            let file = path.isEmpty ? SimHostFile() : try SimHostFile.load(path: path)
            let kernel = JournalingSimKernel(kernel: try await file.boot())
            if case .path = scope.scope, !kernel.kernel.namespaces.contains(scope.scope) {
                throw CommandError("network namespace not found in the simulated host: \(scope.scope)")
            }
            let statePath = path.isEmpty ? nil : "\(path).\(scope.slug).state.json"
            return Host(
                backend: kernel, scope: scope.scope, defaultStatePath: statePath,
                stateScope: StateScope(backend: .sim, netns: scope.scope.description, identity: nil),
                sim: (file, path, kernel, lock))
        }
    }

    private static func checkNamespaceExists(_ scope: NetnsScope) throws {
        switch scope {
        case .current: return
        case .path(let path):
            guard FileManager.default.fileExists(atPath: path) else {
                throw CommandError("network namespace not found: \(path) does not exist")
            }
        case .pid(let pid):
            guard FileManager.default.fileExists(atPath: "/proc/\(pid)/ns/net") else {
                throw CommandError("network namespace not found: no process \(pid)")
            }
        }
    }

    /// The state file for this host and scope: `--state` if given, else the default.
    func stateFile(at override: String?) -> StateFile {
        StateFile(
            path: override ?? defaultStatePath, scope: stateScope,
            isDefaultPath: override == nil || override == defaultStatePath)
    }

    /// Persists a simulated host's changes (a no-op on the real kernel).
    /// `exiting`: the command ends now, and with it, as on the real kernel
    /// (where the process exit closes it), its nf_tables socket: the
    /// simulated host removes the tables it owned (`lifetime: owned`) and
    /// orphans the owned persistent ones, and journals that.
    func finish(exiting: Bool = false) throws(CommandError) {
        if exiting { sim?.kernel.closeNftSocket() }
        guard let sim, !sim.path.isEmpty else { return }
        var file = sim.file
        file.journal += sim.kernel.recorded
        try AtomicJSON.write(file, to: sim.path, what: "simulated host")
    }

    /// Ends the command's hold on a `--sim-state` file; calling it last keeps
    /// the lock for the whole command.
    func release() {
        sim?.lock?.release()
    }
}
