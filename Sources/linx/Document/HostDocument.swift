import LinxReconcile

/// A desired-state file: the cross-subsystem composite the library leaves to
/// its consumers. One document, optional sections, one reconciler per
/// subsystem and scope.
///
/// ```yaml
/// rtnl:
///   protocol: 76
///   addresses:
///     - { interface: eth0, address: 10.0.0.2/24 }
///   routes:
///     - { destination: default, gateway: 10.0.0.1 }
/// sysctl:
///   revertOnRelease: true
///   keys:
///     net.ipv4.ip_forward: 1
/// cgroups:
///   /sys/fs/cgroup/web:
///     memory.max: 268435456
///     cpu.max: { quota: 50000, period: 100000 }
/// ```
struct HostDocument: Sendable {
    struct Rtnl: Sendable {
        var desired: RtnlDesiredState
        var options: RtnlOptions
    }

    struct Sysctl: Sendable {
        var desired: SysctlDesiredState
        var options: SysctlOptions
    }

    struct Cgroup: Sendable {
        var path: String
        var desired: CgroupDesiredState
        /// The line of each file, keyed as for ``HostDocument/lines``. Per
        /// cgroup, because the reconciler names a file without its cgroup
        /// and two cgroups often set the same file.
        var lines: [String: Int] = [:]
    }

    /// Where the document came from, for error messages.
    var file: String
    var rtnl: Rtnl?
    var sysctl: Sysctl?
    var cgroups: [Cgroup] = []
    /// The line each entry was written on, keyed by the entry's description
    /// (what the reconcilers name in their errors).
    var lines: [String: Int] = [:]

    /// The sections this document declares, in the order they are applied.
    var sectionNames: [String] {
        (rtnl == nil ? [] : ["rtnl"]) + (sysctl == nil ? [] : ["sysctl"]) + (cgroups.isEmpty ? [] : ["cgroups"])
    }

    /// Turns a reconciler's refusal into `FILE:LINE: entry: reason`, finding
    /// the line in `lines` (the document's own unless a section has its own).
    func locate(_ error: ReconcileError, lines: [String: Int]? = nil) -> String {
        guard case .invalidDesired(let entry, let reason) = error else { return "\(file): \(error)" }
        let line = (lines ?? self.lines)[entry].map { ":\($0)" } ?? ""
        return "\(file)\(line): \(entry): \(reason)"
    }
}

/// A desired-state file that cannot be used: names the file, the line and
/// the entry.
struct DocumentError: Error, CustomStringConvertible {
    var file: String
    var line: Int?
    var entry: String
    var reason: String

    var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(entry): \(reason)"
    }
}
