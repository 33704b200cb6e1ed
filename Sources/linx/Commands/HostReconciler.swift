import LinxReconcile

/// Drives one reconciler per subsystem declared in a ``HostDocument``.
///
/// Every section is planned (validated against the kernel) before any is
/// applied, so an invalid entry anywhere in the file changes nothing.
struct HostReconciler {
    let host: Host
    let document: HostDocument

    /// The plans of every section, in apply order.
    struct Plans {
        var rtnl: RtnlPlan?
        var sysctl: SysctlPlan?
        var cgroups: [(path: String, plan: CgroupPlan)] = []

        var outcomes: [SectionOutcome] {
            var result: [SectionOutcome] = []
            if let rtnl { result.append(SectionOutcome(section: "rtnl", plan: rtnl.ops)) }
            if let sysctl { result.append(SectionOutcome(section: "sysctl", plan: sysctl.ops)) }
            for (path, plan) in cgroups { result.append(SectionOutcome(section: "cgroup \(path)", plan: plan.ops)) }
            return result
        }

        /// How many ops the plans hold, without rendering them.
        var changeCount: Int {
            (rtnl?.ops.count ?? 0) + (sysctl?.ops.count ?? 0) + cgroups.reduce(0) { $0 + $1.plan.ops.count }
        }
    }

    func plan(owned state: HostState) async throws -> Plans {
        var plans = Plans()
        do {
            if let rtnl = document.rtnl {
                plans.rtnl = try await RtnlReconciler(backend: host.backend)
                    .plan(in: host.scope, desired: rtnl.desired, lastApplied: state.rtnl, options: rtnl.options)
            }
            if let sysctl = document.sysctl {
                plans.sysctl = try await SysctlReconciler(backend: host.backend)
                    .plan(in: host.scope, desired: sysctl.desired, lastApplied: state.sysctl, options: sysctl.options)
            }
        } catch {
            throw CommandError(document.locate(error))
        }
        for cgroup in document.cgroups {
            do {
                let plan = try await CgroupReconciler(backend: host.backend)
                    .plan(in: cgroup.path, desired: cgroup.desired, lastApplied: state.cgroups[cgroup.path] ?? .empty)
                plans.cgroups.append((cgroup.path, plan))
            } catch {
                throw CommandError(document.locate(error, lines: cgroup.lines))
            }
        }
        return plans
    }

    /// Applies plans made by ``plan(owned:)`` and returns each section's
    /// report and the ownership to record.
    func apply(_ plans: Plans, owned state: HostState) async -> (outcomes: [SectionOutcome], state: HostState, converged: Bool) {
        var outcomes: [SectionOutcome] = []
        var next = state
        var converged = true
        if let plan = plans.rtnl, let rtnl = document.rtnl {
            let report = await RtnlReconciler(backend: host.backend).apply(plan, in: host.scope, options: rtnl.options)
            outcomes.append(SectionOutcome(section: "rtnl", report: report))
            next.rtnl = report.lastApplied
            converged = converged && report.converged
        }
        if let plan = plans.sysctl, let sysctl = document.sysctl {
            let report = await SysctlReconciler(backend: host.backend)
                .apply(plan, lastApplied: state.sysctl, in: host.scope, options: sysctl.options)
            outcomes.append(SectionOutcome(section: "sysctl", report: report))
            next.sysctl = report.lastApplied
            converged = converged && report.converged
        }
        for (path, plan) in plans.cgroups {
            let report = await CgroupReconciler(backend: host.backend)
                .apply(plan, lastApplied: state.cgroups[path] ?? .empty, in: path)
            outcomes.append(SectionOutcome(section: "cgroup \(path)", report: report))
            next.cgroups[path] = report.lastApplied
            converged = converged && report.converged
        }
        return (outcomes, next, converged)
    }
}
