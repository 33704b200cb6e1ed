import LinxConformance

extension BuiltinSource {
    /// Runs the suite against this Source on the real kernel, inside a
    /// throwaway namespace or cgroup (root only; skipped with the reason otherwise).
    public func runOnKernel(options: ConformanceOptions = ConformanceOptions()) async -> ConformanceResults {
        switch self {
        case .rtnl: await Conformance.run(RtnlKernelSubject(), options: options)
        case .sysctl: await Conformance.run(SysctlKernelSubject(), options: options)
        case .cgroup: await Conformance.run(CgroupKernelSubject(), options: options)
        case .nftables: await Conformance.run(NftablesKernelSubject(), options: options)
        }
    }
}
