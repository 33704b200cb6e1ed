import LinxReconcile

/// Every section's plan for one ``HostDocument``; nothing applied yet.
public struct HostPlan: Sendable {
    /// The group members of each section, to read plans and reports back typed.
    struct Members: Sendable {
        var rtnl: ReconcileGroup.Member<RtnlSource>?
        var sysctl: ReconcileGroup.Member<SysctlSource>?
        var cgroups: [ReconcileGroup.Member<CgroupSource>] = []
        var nftables: [ReconcileGroup.Member<NftablesSource>] = []
    }

    /// The document planned.
    public let document: HostDocument
    /// The ownership the plan started from.
    public let lastApplied: HostLastApplied
    let members: Members
    let plan: ReconcileGroup.Plan

    /// The rtnl section's plan, nil when the document has no rtnl section.
    public var rtnl: RtnlPlan? { members.rtnl.map { plan[$0] } }
    /// The sysctl section's plan, nil when it declares no `keys`.
    public var sysctl: SysctlPlan? { members.sysctl.map { plan[$0] } }
    /// Each cgroup's plan, in document order.
    public var cgroups: [(path: String, plan: CgroupPlan)] {
        zip(document.cgroups, members.cgroups).map { ($0.path, plan[$1]) }
    }

    /// Each nf_tables table's plan, in document order.
    public var nftables: [(table: NftTableRef, plan: NftPlan)] {
        zip(document.nftables?.tables ?? [], members.nftables).map { ($0.ref, plan[$1]) }
    }

    /// How many ops the plans hold together.
    public var changeCount: Int { plan.changeCount }

    /// Applies every section's plan, in document order (rtnl, sysctl, each
    /// cgroup, each nf_tables table), and returns the reports with the
    /// ownership to keep.
    public func apply() async -> HostReport {
        Self.report(of: await plan.apply(), members: members, document: document, lastApplied: lastApplied)
    }

    /// The sections' reports read from the group's `result`, and the
    /// ownership to keep (`lastApplied` for sections not declared).
    static func report(
        of result: ReconcileGroup.Result, members: Members, document: HostDocument, lastApplied: HostLastApplied
    ) -> HostReport {
        var report = HostReport(lastApplied: lastApplied)
        if let member = members.rtnl {
            report.rtnl = result[member]
            report.lastApplied.rtnl = result[member].lastApplied
        }
        if let member = members.sysctl {
            report.sysctl = result[member]
            report.lastApplied.sysctl = result[member].lastApplied
        }
        for (cgroup, member) in zip(document.cgroups, members.cgroups) {
            report.cgroups.append((cgroup.path, result[member]))
            report.lastApplied.cgroups[cgroup.path] = result[member].lastApplied
        }
        for (table, member) in zip(document.nftables?.tables ?? [], members.nftables) {
            report.nftables.append((table.ref, result[member]))
            report.lastApplied.nftables[table.ref.description] = result[member].lastApplied
        }
        return report
    }
}

/// Every section's report of one ``HostPlan/apply()``.
public struct HostReport: Sendable {
    /// The rtnl section's report.
    public var rtnl: ReconcileReport<RtnlObject, RtnlLastApplied>?
    /// The sysctl section's report.
    public var sysctl: ReconcileReport<SysctlSetting, SysctlLastApplied>?
    /// Each cgroup's report, in document order.
    public var cgroups: [(path: String, report: ReconcileReport<CgroupSetting, CgroupLastApplied>)] = []
    /// Each nf_tables table's report, in document order.
    public var nftables: [(table: NftTableRef, report: ReconcileReport<NftObject, NftLastApplied>)] = []
    /// The ownership to thread into the next pass: each section's new
    /// record, and what the previous one held for sections not declared.
    public var lastApplied: HostLastApplied

    /// A report with no section yet.
    public init(lastApplied: HostLastApplied) {
        self.lastApplied = lastApplied
    }

    /// True when every section converged.
    public var converged: Bool {
        (rtnl?.converged ?? true) && (sysctl?.converged ?? true) && cgroups.allSatisfy(\.report.converged)
            && nftables.allSatisfy(\.report.converged)
    }
}

extension HostPlan: Encodable {
    private enum CodingKeys: String, CodingKey { case section, cgroup, table, manages, ops }

    /// `[{"section": "rtnl", "manages": ["addresses", "routes"], "ops": [...]},
    ///   {"section": "sysctl", "ops": [...]}, {"section": "cgroups", "cgroup": "/sys/fs/cgroup/web", "ops": [...]}]`.
    public func encode(to encoder: any Encoder) throws {
        var list = encoder.unkeyedContainer()
        if let rtnl {
            var entry = list.nestedContainer(keyedBy: CodingKeys.self)
            try entry.encode("rtnl", forKey: .section)
            try entry.encode(rtnl.managed.names, forKey: .manages)
            try entry.encode(rtnl.ops, forKey: .ops)
        }
        if let sysctl {
            var entry = list.nestedContainer(keyedBy: CodingKeys.self)
            try entry.encode("sysctl", forKey: .section)
            try entry.encode(sysctl.ops, forKey: .ops)
        }
        for (path, plan) in cgroups {
            var entry = list.nestedContainer(keyedBy: CodingKeys.self)
            try entry.encode("cgroups", forKey: .section)
            try entry.encode(path, forKey: .cgroup)
            try entry.encode(plan.ops, forKey: .ops)
        }
        for (table, plan) in nftables {
            var entry = list.nestedContainer(keyedBy: CodingKeys.self)
            try entry.encode("nftables", forKey: .section)
            try entry.encode(table.description, forKey: .table)
            try entry.encode(plan.ops, forKey: .ops)
        }
    }
}

extension HostReport: Encodable {
    private enum CodingKeys: String, CodingKey { case section, cgroup, table, report }

    /// `[{"section": "rtnl", "report": {...}}, ..., {"section": "cgroups", "cgroup": path, "report": {...}}]`,
    /// each report as ``/LinxReconcile/ReconcileReport`` encodes.
    public func encode(to encoder: any Encoder) throws {
        var list = encoder.unkeyedContainer()
        if let rtnl {
            var entry = list.nestedContainer(keyedBy: CodingKeys.self)
            try entry.encode("rtnl", forKey: .section)
            try entry.encode(rtnl, forKey: .report)
        }
        if let sysctl {
            var entry = list.nestedContainer(keyedBy: CodingKeys.self)
            try entry.encode("sysctl", forKey: .section)
            try entry.encode(sysctl, forKey: .report)
        }
        for (path, report) in cgroups {
            var entry = list.nestedContainer(keyedBy: CodingKeys.self)
            try entry.encode("cgroups", forKey: .section)
            try entry.encode(path, forKey: .cgroup)
            try entry.encode(report, forKey: .report)
        }
        for (table, report) in nftables {
            var entry = list.nestedContainer(keyedBy: CodingKeys.self)
            try entry.encode("nftables", forKey: .section)
            try entry.encode(table.description, forKey: .table)
            try entry.encode(report, forKey: .report)
        }
    }
}
