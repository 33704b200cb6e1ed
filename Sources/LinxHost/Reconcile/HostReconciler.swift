import LinxReconcile

/// Reconciles a ``HostDocument``: one Source per section (rtnl and sysctl in
/// the network namespace `scope`, each cgroup in its directory, each
/// nf_tables table in `scope`), all of them
/// planned before any is applied, so an invalid entry anywhere in the
/// document changes nothing. A section or kind the document does not
/// declare is not managed.
///
/// ```swift
/// let document = try HostDocument.load(path: "/etc/linx/host.yaml")
/// let host = HostReconciler(backend: LinuxKernel(), scope: .current)
/// let plan = try await host.plan(document, lastApplied: owned)   // throws naming file:line
/// let report = await plan.apply()
/// owned = report.lastApplied
/// ```
public struct HostReconciler: Sendable {
    /// The kernels a host document needs: every built-in subsystem.
    public typealias Backend = RtnlBackend & SysctlBackend & CgroupBackend & NftablesBackend

    /// The kernel acted on.
    public let backend: any Backend
    /// The network namespace of the rtnl, sysctl and nftables sections.
    public let scope: NetnsScope

    /// A reconciler for documents on `backend`, in `scope`.
    public init(backend: any Backend, scope: NetnsScope) {
        self.backend = backend
        self.scope = scope
    }

    /// Plans every section of `document`, applying nothing.
    ///
    /// - Throws: ``HostDocumentError`` naming the file, line and entry of the
    ///   first entry a reconciler refused (or, for a kernel that cannot be
    ///   observed, the section).
    public func plan(_ document: HostDocument, lastApplied: HostLastApplied) async throws(HostDocumentError) -> HostPlan {
        let (group, members) = group(for: document, lastApplied: lastApplied)
        do {
            return HostPlan(document: document, lastApplied: lastApplied, members: members, plan: try await group.plan())
        } catch {
            throw Self.locate(error, in: document)
        }
    }

    /// Plans and applies `document` in one call: every section is planned
    /// before any is applied, as ``plan(_:lastApplied:)`` then
    /// ``HostPlan/apply()`` do, but a new nf_tables table (when it is the
    /// only one) is not dry-run: it is committed first, and its commit is
    /// the check (``/LinxReconcile/ReconcileGroup/reconcile()``). A refused
    /// commit changes nothing in any section and throws as a refusal at
    /// planning does, naming the entry's line.
    ///
    /// - Throws: ``HostDocumentError``, as ``plan(_:lastApplied:)``;
    ///   nothing was applied.
    public func reconcile(_ document: HostDocument, lastApplied: HostLastApplied) async throws(HostDocumentError) -> HostReport {
        let (group, members) = group(for: document, lastApplied: lastApplied)
        do {
            let result = try await group.reconcile()
            return HostPlan.report(of: result, members: members, document: document, lastApplied: lastApplied)
        } catch {
            throw Self.locate(error, in: document)
        }
    }

    /// One group member per section (rtnl, sysctl, each cgroup, each table).
    private func group(for document: HostDocument, lastApplied: HostLastApplied) -> (ReconcileGroup, HostPlan.Members) {
        var group = ReconcileGroup()
        var members = HostPlan.Members()
        if let rtnl = document.rtnl {
            members.rtnl = group.add(
                "rtnl", RtnlSource(backend: backend), scope: scope, desired: rtnl.desired,
                lastApplied: lastApplied.rtnl, options: rtnl.options)
        }
        if let sysctl = document.sysctl, let desired = sysctl.desired {
            members.sysctl = group.add(
                "sysctl", SysctlSource(backend: backend), scope: scope, desired: desired,
                lastApplied: lastApplied.sysctl, options: sysctl.options)
        }
        for (position, cgroup) in document.cgroups.enumerated() {
            members.cgroups.append(group.add(
                "cgroups.\(position)", CgroupSource(backend: backend), scope: cgroup.path, desired: cgroup.desired,
                lastApplied: lastApplied.cgroups[cgroup.path] ?? .empty, options: .default))
        }
        if let nftables = document.nftables {
            let source = NftablesSource(backend: backend)
            for (position, table) in nftables.tables.enumerated() {
                members.nftables.append(group.add(
                    "nftables.\(position)", source, scope: NftScope(scope, table: table.ref), desired: table.desired,
                    lastApplied: lastApplied.nftables[table.ref.description] ?? .empty, options: nftables.options))
            }
        }
        return (group, members)
    }

    /// Places a member's refusal in the document: its section, the entry's
    /// path from the Source's ``DesiredPath``, and that entry's line.
    static func locate(_ failure: ReconcileGroupError, in document: HostDocument) -> HostDocumentError {
        let section: DesiredPath
        var reason = "\(failure.error)"
        switch failure.member {
        case "rtnl": section = ["rtnl"]
        case "sysctl": section = ["sysctl", "keys"]
        case let member where member.hasPrefix("nftables."):
            let position = Int(member.dropFirst("nftables.".count)) ?? 0
            section = ["nftables", "tables", .key(document.nftables?.tables[position].ref.description ?? "")]
        default:
            let position = Int(failure.member.dropFirst("cgroups.".count)) ?? 0
            section = ["cgroups", .key(document.cgroups[position].path)]
        }
        var path = section
        switch failure.error {
        case .invalidDesired(let name, let why, let entry):
            if let entry {
                reason = why
                path = Self.documentPath(of: entry, in: section)
            } else {
                // Not an entry of the document (an owned entry being released,
                // from lastApplied): only the Source's name for it says which.
                reason = "\(name): \(why)"
            }
        case .scopeUnavailable(_, let why):
            reason = why
        case .observeFailed:
            break
        }
        return HostDocumentError(file: document.origin?.file, line: document.origin?.line(of: path), path: path, reason: reason)
    }

    /// A Source's path in the document: rtnl's options are the section's own
    /// keys: `protocol` for routeProtocol, the other options by their own names.
    private static func documentPath(of entry: DesiredPath, in section: DesiredPath) -> DesiredPath {
        if section == ["rtnl"], entry.components.first == "options", entry.components.count == 2 {
            return entry.components[1] == "routeProtocol" ? ["rtnl", "protocol"] : ["rtnl", entry.components[1]]
        }
        return entry.under(section)
    }
}
