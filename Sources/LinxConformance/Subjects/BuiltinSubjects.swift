/// The Sources that ship with Linx, by the name `linx conformance --source`
/// and `linx fuzz --source` take.
public enum BuiltinSource: String, Sendable, Hashable, CaseIterable, Codable {
    case rtnl, sysctl, cgroup

    /// Runs the suite against this Source on the simulated kernel.
    public func runOnSimulator(options: ConformanceOptions = ConformanceOptions()) async -> ConformanceResults {
        switch self {
        case .rtnl: await Conformance.run(RtnlSimSubject(), options: options)
        case .sysctl: await Conformance.run(SysctlSimSubject(), options: options)
        case .cgroup: await Conformance.run(CgroupSimSubject(), options: options)
        }
    }
}
