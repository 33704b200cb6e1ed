import LinxKernelSim
import LinxReconcile

extension RtnlSimSubject: SimKernelFuzzableSubject {
    public func kernel(of sandbox: Sandbox) -> SimKernel { sandbox.kernel }
    public var fuzzKinds: Set<SimFaultKind> { Set(SimFaultKind.allCases) }

    public func openMonitor(in sandbox: Sandbox) async -> MonitorProbe? {
        guard let events = try? await sandbox.kernel.events(in: sandbox.scope) else { return nil }
        return MonitorProbe {
            do {
                for try await _ in events {}
                return false
            } catch {
                return true
            }
        }
    }

    public func fuzzDesired(in sandbox: Sandbox, using random: inout SimRandom) -> RtnlDesiredState {
        RtnlStateModel.validDesired(
            links: Self.links, addresses: 2...8, routes: 20...160, using: &random)
    }

    public func repair(_ sandbox: Sandbox) throws {
        try? sandbox.kernel.setLink("lo", up: true, in: sandbox.scope)
        for link in Self.links where sandbox.kernel.ifindex(of: link, in: sandbox.scope) == nil {
            try sandbox.kernel.addLink(link, kind: "veth", up: true, in: sandbox.scope)
        }
    }

    public func describe(_ lastApplied: RtnlLastApplied) -> [String] {
        lastApplied.addresses.sorted().map { "address \($0)" }
    }
}

extension SysctlSimSubject: SimKernelFuzzableSubject {
    public func kernel(of sandbox: Sandbox) -> SimKernel { sandbox.kernel }
    public var fuzzKinds: Set<SimFaultKind> { [.errno, .drift, .reboot] }

    public func fuzzDesired(in sandbox: Sandbox, using random: inout SimRandom) -> SysctlDesiredState {
        validDesired(in: sandbox, using: &random)
    }

    public func repair(_ sandbox: Sandbox) throws {
        for link in ["eth0", "eth1"] where sandbox.kernel.ifindex(of: link, in: sandbox.scope) == nil {
            try sandbox.kernel.addLink(link, kind: "veth", up: true, in: sandbox.scope)
        }
    }

    public func describe(_ lastApplied: SysctlLastApplied) -> [String] {
        lastApplied.owned.sorted { $0.key < $1.key }.map { "\($0.key) (original \(SysctlValue.normalized($0.value)))" }
    }
}

extension CgroupSimSubject: SimKernelFuzzableSubject {
    public func kernel(of sandbox: Sandbox) -> SimKernel { sandbox.kernel }
    public var fuzzKinds: Set<SimFaultKind> { [.errno, .drift, .reboot] }

    public func fuzzDesired(in sandbox: Sandbox, using random: inout SimRandom) -> CgroupDesiredState {
        validDesired(in: sandbox, using: &random)
    }

    public func describe(_ lastApplied: CgroupLastApplied) -> [String] {
        lastApplied.files.sorted()
    }
}
