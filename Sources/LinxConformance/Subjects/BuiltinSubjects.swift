/// The Sources that ship with Linx, by the name `linx conformance --source`
/// and `linx fuzz --source` take.
public enum BuiltinSource: String, Sendable, Hashable, CaseIterable, Codable {
    case rtnl, sysctl, cgroup, nftables

    /// Runs the suite against this Source on the simulated kernel.
    public func runOnSimulator(options: ConformanceOptions = ConformanceOptions()) async -> ConformanceResults {
        switch self {
        case .rtnl: await Conformance.run(RtnlSimSubject(), options: options)
        case .sysctl: await Conformance.run(SysctlSimSubject(), options: options)
        case .cgroup: await Conformance.run(CgroupSimSubject(), options: options)
        case .nftables: await Conformance.run(NftablesSimSubject(), options: options)
        }
    }
}

extension BuiltinSource {
    /// Throws unless this Source's simulator subject can run `scenario`
    /// (``FuzzScenario/validate(available:subject:)``), as its replay would
    /// refuse it: a caller can refuse it before anything else is done.
    public func validate(_ scenario: FuzzScenario) throws(FuzzScenarioError) {
        switch self {
        case .rtnl: try scenario.validate(available: RtnlSimSubject().fuzzKinds, subject: RtnlSimSubject().name)
        case .sysctl: try scenario.validate(available: SysctlSimSubject().fuzzKinds, subject: SysctlSimSubject().name)
        case .cgroup: try scenario.validate(available: CgroupSimSubject().fuzzKinds, subject: CgroupSimSubject().name)
        case .nftables: try scenario.validate(available: NftablesSimSubject().fuzzKinds, subject: NftablesSimSubject().name)
        }
    }

    /// Fuzzes this Source on the simulated kernel.
    public func fuzz(options: FuzzOptions, progress: (@Sendable (Int, Int) -> Void)? = nil) async -> FuzzResults {
        switch self {
        case .rtnl: await FuzzCampaign.run(RtnlSimSubject(), options: options, progress: progress)
        case .sysctl: await FuzzCampaign.run(SysctlSimSubject(), options: options, progress: progress)
        case .cgroup: await FuzzCampaign.run(CgroupSimSubject(), options: options, progress: progress)
        case .nftables: await FuzzCampaign.run(NftablesSimSubject(), options: options, progress: progress)
        }
    }

    /// Runs one scenario against this Source on the simulated kernel, traced.
    public func replay(_ scenario: FuzzScenario, maxPasses: Int) async -> FuzzOutcome {
        switch self {
        case .rtnl: await FuzzRunner.run(RtnlSimSubject(), scenario: scenario, maxPasses: maxPasses, traced: true)
        case .sysctl: await FuzzRunner.run(SysctlSimSubject(), scenario: scenario, maxPasses: maxPasses, traced: true)
        case .cgroup: await FuzzRunner.run(CgroupSimSubject(), scenario: scenario, maxPasses: maxPasses, traced: true)
        case .nftables: await FuzzRunner.run(NftablesSimSubject(), scenario: scenario, maxPasses: maxPasses, traced: true)
        }
    }

    /// Shrinks a failing outcome of this Source.
    public func shrink(_ outcome: FuzzOutcome, maxPasses: Int) async -> FuzzOutcome {
        switch self {
        case .rtnl: await FuzzCampaign.shrink(RtnlSimSubject(), outcome, maxPasses: maxPasses)
        case .sysctl: await FuzzCampaign.shrink(SysctlSimSubject(), outcome, maxPasses: maxPasses)
        case .cgroup: await FuzzCampaign.shrink(CgroupSimSubject(), outcome, maxPasses: maxPasses)
        case .nftables: await FuzzCampaign.shrink(NftablesSimSubject(), outcome, maxPasses: maxPasses)
        }
    }
}
