import Foundation
import LinxHost
import LinxReconcile

/// One subsystem's plan or report, reduced to what the command prints:
/// the same shape for rtnl, sysctl and each cgroup, so one renderer serves all.
struct SectionOutcome: Sendable {
    /// One line of a plan or report.
    struct Line: Sendable {
        enum Status: String, Sendable { case planned, applied, failed, pending }
        /// create, update or delete.
        var op: String
        var status: Status
        /// The object as it will be (create, update) or as it was (delete).
        var object: String
        /// For an update, what the kernel holds now.
        var previous: String?
        var error: String?
    }

    /// `rtnl`, `sysctl`, `cgroup /sys/fs/cgroup/web` or `nftables inet linx`.
    var section: String
    /// For a plan of a section that manages only some of its kinds, which.
    var manages: String?
    var lines: [Line]
    /// Set for reports; nil for plans.
    var converged: Bool?

    init<Item: CustomStringConvertible>(section: String, plan: [ReconcileOp<Item>]) {
        self.section = section
        self.lines = plan.map { Self.line($0, .planned) }
        self.converged = nil
    }

    init<Item: CustomStringConvertible, LastApplied>(section: String, report: ReconcileReport<Item, LastApplied>) {
        self.section = section
        self.lines = report.applied.map { Self.line($0, .applied) }
            + report.failed.map { failed in
                var line = Self.line(failed.op, .failed)
                line.error = failed.error.description
                return line
            }
            + report.pending.map { Self.line($0, .pending) }
        self.converged = report.converged
    }

    private static func line<Item: CustomStringConvertible>(_ op: ReconcileOp<Item>, _ status: Line.Status) -> Line {
        switch op {
        case .create(let item): Line(op: "create", status: status, object: item.description)
        case .update(let item, let previous):
            Line(op: "update", status: status, object: item.description, previous: previous.description)
        case .delete(let item): Line(op: "delete", status: status, object: item.description)
        }
    }

    /// Every section of a host plan, in apply order.
    static func outcomes(of plan: HostPlan) -> [SectionOutcome] {
        var result: [SectionOutcome] = []
        if let rtnl = plan.rtnl {
            var outcome = SectionOutcome(section: "rtnl", plan: rtnl.ops)
            if rtnl.managed != .all { outcome.manages = rtnl.managed.description }
            result.append(outcome)
        }
        if let sysctl = plan.sysctl { result.append(SectionOutcome(section: "sysctl", plan: sysctl.ops)) }
        for (path, cgroup) in plan.cgroups { result.append(SectionOutcome(section: "cgroup \(path)", plan: cgroup.ops)) }
        for (table, nft) in plan.nftables { result.append(SectionOutcome(section: "nftables \(table)", plan: nft.ops)) }
        return result
    }

    /// Every section of a host report, in apply order.
    static func outcomes(of report: HostReport) -> [SectionOutcome] {
        var result: [SectionOutcome] = []
        if let rtnl = report.rtnl { result.append(SectionOutcome(section: "rtnl", report: rtnl)) }
        if let sysctl = report.sysctl { result.append(SectionOutcome(section: "sysctl", report: sysctl)) }
        for (path, cgroup) in report.cgroups { result.append(SectionOutcome(section: "cgroup \(path)", report: cgroup)) }
        for (table, nft) in report.nftables { result.append(SectionOutcome(section: "nftables \(table)", report: nft)) }
        return result
    }

    /// The lines a terminal shows: `+`, `~ old -> new`, `-`, failures and
    /// pending marked, handed to `output` one by one (a report of 65,536
    /// routes is as many lines: they are written as they are made).
    func render(_ terminal: Terminal, to output: (String) -> Void) {
        output(terminal.bold(section) + (manages.map { terminal.dim(" (manages only \($0))") } ?? ""))
        if lines.isEmpty { output("  " + terminal.dim("no changes")) }
        for line in lines {
            var text: String
            switch line.op {
            case "create": text = terminal.green("  + \(line.object)")
            case "update": text = terminal.yellow("  ~ \(line.previous ?? "?") -> \(line.object)")
            default: text = terminal.red("  - \(line.object)")
            }
            switch line.status {
            case .failed: text += terminal.red("  FAILED: \(line.error ?? "")")
            case .pending: text += terminal.dim("  (pending: not reached)")
            case .planned, .applied: break
            }
            output(text)
        }
        if let converged {
            let failed = lines.filter { $0.status == .failed }.count
            let pending = lines.filter { $0.status == .pending }.count
            let summary = "  \(lines.count - failed - pending) applied, \(failed) failed, \(pending) pending"
            output(converged ? summary + ", " + terminal.green("converged") : summary + ", " + terminal.red("not converged"))
        }
    }
}

/// Prints section outcomes for a human, coloured on a terminal.
func print(outcomes: [SectionOutcome]) {
    // Written 64 KiB at a time rather than one `print` a line.
    var chunk = ""
    chunk.reserveCapacity(68 << 10)
    for outcome in outcomes {
        outcome.render(.standardOutput) { line in
            chunk += line
            chunk += "\n"
            if chunk.utf8.count >= 64 << 10 {
                print(chunk, terminator: "")
                chunk.removeAll(keepingCapacity: true)
            }
        }
    }
    print(chunk, terminator: "")
}

/// Prints a value as JSON (a plan or a report as the library encodes it).
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
