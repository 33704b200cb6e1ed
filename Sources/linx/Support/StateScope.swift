import LinxLinux
import LinxReconcile

/// The scope a state file's ownership belongs to: which kernel (real or
/// simulated) and which network namespace.
///
/// Ownership recorded in one namespace means nothing in another: applying
/// namespace A's record to namespace B would release B's own objects that
/// happen to have the same keys. So every state file names its scope and is
/// refused for any other (see ``verdict(for:)``). The namespace is named by
/// the kernel's identity for it (``NetnsIdentity``), not by its path, so a
/// namespace deleted and re-created under the same name is another scope.
struct StateScope: Codable, Sendable, Equatable {
    enum Backend: String, Codable, Sendable { case kernel, sim }

    var backend: Backend
    /// The namespace as the command named it ("netns /run/netns/web-1"), for messages.
    var netns: String
    /// The real kernel's identity for it; nil on the simulated host, whose
    /// namespaces are named by their name in the `--sim-state` file.
    var identity: NetnsIdentity?

    /// What a recorded scope means for a command acting in this one.
    enum Verdict: Equatable {
        /// The same scope: the ownership applies.
        case same
        /// Written for a namespace that a reboot since then has removed, so
        /// nothing it records can still exist: start owning nothing (the
        /// message says so).
        case gone(String)
        /// Another scope: using it could release what is not ours.
        case other(String)
    }

    /// Compares a state file's recorded scope with this one.
    func verdict(for recorded: StateScope) -> Verdict {
        guard recorded.backend == backend else {
            return .other("written for the \(recorded.backend.name) (\(recorded.netns)), not the \(backend.name)")
        }
        switch (recorded.identity, identity) {
        case (nil, nil):
            return recorded.netns == netns ? .same : .other("written for \(recorded.netns), not \(netns)")
        case (let old?, let new?):
            if old.isInitial && new.isInitial { return .same }
            if old.boot == new.boot {
                if old.cookie == new.cookie { return .same }
                let renamed = recorded.netns == netns ? " (a namespace re-created under the same name is another namespace)" : ""
                return .other("written for \(recorded.netns) (namespace cookie \(old.cookie)), not \(netns) (cookie \(new.cookie))\(renamed)")
            }
            if !old.isInitial {
                return .gone("was written for \(recorded.netns) before a reboot, which removed that namespace and everything in it")
            }
            return .other("written for \(recorded.netns) (the host's namespace), not \(netns)")
        default:
            return .other("written for \(recorded.netns), not \(netns)")
        }
    }
}

extension StateScope.Backend {
    fileprivate var name: String { self == .kernel ? "real kernel" : "simulated host" }
}
