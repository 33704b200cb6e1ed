import LinxKernelSim
import LinxReconcile

/// A subject whose sandbox is a simulated kernel, so convergence fuzzing can
/// arm the kernel's fault plans, reboot it, and compare its histories.
public protocol FuzzableSubject: ConformanceSubject {
    /// The simulated kernel behind `sandbox`.
    func kernel(of sandbox: Sandbox) -> SimKernel
    /// The fault kinds that can fire for this Source; a default fuzz run
    /// must see every one of them fire.
    var fuzzKinds: Set<SimFaultKind> { get }
    /// A desired state sized for fuzzing (up to a few hundred objects).
    func fuzzDesired(in sandbox: Sandbox, using random: inout SimRandom) -> Source.Desired
    /// Puts back what a fault took away as an operator would (interfaces
    /// after a vanish or a reboot), so the desired state is valid again.
    func repair(_ sandbox: Sandbox) throws
    /// Opens a monitor on the sandbox's kernel for the length of a scenario,
    /// so overflow and monitor-death faults have something to hit; nil when
    /// the subsystem has none. Its events are left buffered (the kernel's
    /// own overflow applies), never drained, which keeps fuzzing fast.
    func openMonitor(in sandbox: Sandbox) async -> MonitorProbe?
}

/// A monitor opened for fuzzing, and the one question asked of it.
public struct MonitorProbe: Sendable {
    /// Reads what is left of the (finished) stream: true when it ended
    /// with an error, as a dead monitor must.
    public let endedWithError: @Sendable () async -> Bool

    public init(endedWithError: @escaping @Sendable () async -> Bool) {
        self.endedWithError = endedWithError
    }
}

extension RtnlSimSubject: FuzzableSubject {
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
}

extension SysctlSimSubject: FuzzableSubject {
    public func kernel(of sandbox: Sandbox) -> SimKernel { sandbox.kernel }
    public var fuzzKinds: Set<SimFaultKind> { [.errno, .drift, .reboot] }
    public func openMonitor(in sandbox: Sandbox) async -> MonitorProbe? { nil }

    public func fuzzDesired(in sandbox: Sandbox, using random: inout SimRandom) -> SysctlDesiredState {
        validDesired(in: sandbox, using: &random)
    }

    public func repair(_ sandbox: Sandbox) throws {
        for link in ["eth0", "eth1"] where sandbox.kernel.ifindex(of: link, in: sandbox.scope) == nil {
            try sandbox.kernel.addLink(link, kind: "veth", up: true, in: sandbox.scope)
        }
    }
}

extension CgroupSimSubject: FuzzableSubject {
    public func kernel(of sandbox: Sandbox) -> SimKernel { sandbox.kernel }
    public var fuzzKinds: Set<SimFaultKind> { [.errno, .drift, .reboot] }
    public func openMonitor(in sandbox: Sandbox) async -> MonitorProbe? { nil }

    public func fuzzDesired(in sandbox: Sandbox, using random: inout SimRandom) -> CgroupDesiredState {
        validDesired(in: sandbox, using: &random)
    }

    public func repair(_ sandbox: Sandbox) throws {}
}
