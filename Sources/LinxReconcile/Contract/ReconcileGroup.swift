/// Several Sources reconciled as one: every member is planned (observed,
/// validated, diffed) before any is applied, so an invalid desired state in
/// one member changes nothing in any.
///
/// ```swift
/// var group = ReconcileGroup()
/// let network = group.add("rtnl", RtnlSource(backend: kernel), scope: .current,
///                         desired: addresses, lastApplied: owned.rtnl, options: .default)
/// let sysctls = group.add("sysctl", SysctlSource(backend: kernel), scope: .current,
///                         desired: ["net.ipv4.ip_forward": 1], lastApplied: owned.sysctl, options: .default)
/// let plan = try await group.plan()          // throws before anything is applied
/// let result = await plan.apply()
/// owned.rtnl = result[network].lastApplied
/// ```
///
/// Members are applied in the order they were added, each one pass of its
/// own Source (a fail-fast member that stops does not stop the next one:
/// their objects are independent); ``reconcile()`` may apply one member
/// first, when its commit is its check. The handle `add` returns reads that
/// member's plan and report back with their own types.
public struct ReconcileGroup: Sendable {
    /// A member's handle, typed by its Source.
    public struct Member<Source: PlanningSource>: Sendable, Hashable {
        /// The position the member was added at.
        public let index: Int
        /// The name it was added under.
        public let name: String
    }

    /// A member with its types erased, so that members of different Sources
    /// sit in one list. The closures capture the member's inputs.
    fileprivate struct Erased: Sendable {
        let name: String
        let plan: @Sendable () async throws(ReconcileError) -> any Sendable
        let apply: @Sendable (any Sendable) async -> any Sendable
        let planDeferring: @Sendable () async throws(ReconcileError) -> (plan: any Sendable, checkDeferred: Bool)
        let applyChecking: @Sendable (any Sendable) async throws(ReconcileError) -> any Sendable
        let opCount: @Sendable (any Sendable) -> Int
        let converged: @Sendable (any Sendable) -> Bool
    }

    private var members: [Erased] = []

    /// An empty group.
    public init() {}

    /// The members' names, in apply order.
    public var names: [String] { members.map(\.name) }

    /// Adds a member: `source` acting on `scope` towards `desired`.
    @discardableResult
    public mutating func add<Source: PlanningSource>(
        _ name: String, _ source: Source, scope: Source.Scope, desired: Source.Desired,
        lastApplied: Source.LastApplied, options: Source.Options
    ) -> Member<Source> {
        let member = Member<Source>(index: members.count, name: name)
        members.append(Erased(
            name: name,
            plan: { () async throws(ReconcileError) -> any Sendable in
                try await source.plan(scope: scope, desired: desired, lastApplied: lastApplied, options: options)
            },
            apply: { plan in
                await source.apply(plan as! Source.Plan, scope: scope, lastApplied: lastApplied, options: options)
            },
            planDeferring: { () async throws(ReconcileError) -> (plan: any Sendable, checkDeferred: Bool) in
                let (plan, checkDeferred) = try await source.plan(
                    scope: scope, desired: desired, lastApplied: lastApplied, options: options, deferringCheck: true)
                return (plan, checkDeferred)
            },
            applyChecking: { plan async throws(ReconcileError) -> any Sendable in
                try await source.applyChecking(plan as! Source.Plan, scope: scope, lastApplied: lastApplied, options: options)
            },
            opCount: { plan in source.ops(of: plan as! Source.Plan).count },
            converged: { report in (report as! ReconcileReport<Source.Item, Source.LastApplied>).converged }))
        return member
    }

    /// Plans every member, in order, applying nothing.
    ///
    /// - Throws: ``ReconcileGroupError`` naming the first member that could
    ///   not be planned, with its Source's error.
    public func plan() async throws(ReconcileGroupError) -> Plan {
        var plans: [any Sendable] = []
        plans.reserveCapacity(members.count)
        for member in members {
            do {
                plans.append(try await member.plan())
            } catch {
                throw ReconcileGroupError(member: member.name, error: error)
            }
        }
        return Plan(members: members, plans: plans)
    }

    /// Plans every member, then applies them all: what ``plan()`` followed
    /// by ``Plan/apply()`` does, with at most one check fewer.
    ///
    /// A member may leave a check out of its plan when its apply repeats it
    /// all or nothing (``PlanningSource/plan(scope:desired:lastApplied:options:deferringCheck:)``:
    /// a new nf_tables table, whose commit is its own dry run). When exactly
    /// one member did, every member is still planned first, then that
    /// member is applied BEFORE the others: refused, nothing of any member
    /// has been applied and this throws the error its check would have
    /// thrown; carried out, the others are applied in order. When two or
    /// more did, their plans are made again with the check (the second
    /// one's refusal would otherwise leave the first applied) and all are
    /// applied in order, as ``Plan/apply()`` does.
    ///
    /// When the document holds several invalid entries, the one named may
    /// be another than ``plan()`` names (the deferred check comes last).
    ///
    /// - Throws: ``ReconcileGroupError`` naming the member; nothing was applied.
    public func reconcile() async throws(ReconcileGroupError) -> Result {
        var plans: [any Sendable] = []
        plans.reserveCapacity(members.count)
        var deferred: [Int] = []
        for (index, member) in members.enumerated() {
            do {
                let (plan, checkDeferred) = try await member.planDeferring()
                plans.append(plan)
                if checkDeferred { deferred.append(index) }
            } catch {
                throw ReconcileGroupError(member: member.name, error: error)
            }
        }
        if deferred.count > 1 {
            for index in deferred {
                do {
                    plans[index] = try await members[index].plan()
                } catch {
                    throw ReconcileGroupError(member: members[index].name, error: error)
                }
            }
            return await Plan(members: members, plans: plans).apply()
        }
        var reports: [(any Sendable)?] = Array(repeating: nil, count: members.count)
        if let first = deferred.first {
            do {
                reports[first] = try await members[first].applyChecking(plans[first])
            } catch {
                throw ReconcileGroupError(member: members[first].name, error: error)
            }
        }
        for index in members.indices where reports[index] == nil {
            reports[index] = await members[index].apply(plans[index])
        }
        return Result(members: members, reports: reports.map { $0! })
    }

    /// Every member's plan; nothing applied yet.
    public struct Plan: Sendable {
        fileprivate let members: [Erased]
        fileprivate let plans: [any Sendable]

        /// The plan of `member`.
        public subscript<Source: PlanningSource>(member: Member<Source>) -> Source.Plan {
            plans[member.index] as! Source.Plan
        }

        /// How many ops the members' plans hold together.
        public var changeCount: Int {
            zip(members, plans).reduce(0) { $0 + $1.0.opCount($1.1) }
        }

        /// Applies every member's plan, in order, and returns their reports.
        public func apply() async -> Result {
            var reports: [any Sendable] = []
            reports.reserveCapacity(members.count)
            for (member, plan) in zip(members, plans) { reports.append(await member.apply(plan)) }
            return Result(members: members, reports: reports)
        }
    }

    /// Every member's report.
    public struct Result: Sendable {
        fileprivate let members: [Erased]
        fileprivate let reports: [any Sendable]

        /// True when every member's pass converged.
        public var converged: Bool {
            zip(members, reports).allSatisfy { $0.0.converged($0.1) }
        }

        /// The report of `member`.
        public subscript<Source: PlanningSource>(member: Member<Source>) -> ReconcileReport<Source.Item, Source.LastApplied> {
            reports[member.index] as! ReconcileReport<Source.Item, Source.LastApplied>
        }
    }
}

/// A ``ReconcileGroup`` member could not be planned; nothing was applied.
public struct ReconcileGroupError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The member's name, as added.
    public var member: String
    /// Its Source's error.
    public var error: ReconcileError

    /// The failure of `member`.
    public init(member: String, error: ReconcileError) {
        self.member = member
        self.error = error
    }

    /// `rtnl: invalid desired state: ...`.
    public var description: String { "\(member): \(error)" }
}
