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

/// nf_tables faults are the simulator's own (``/LinxKernelSim/SimKernel/failNftFraction(_:errnos:races:)``),
/// not a ``SimFaultPlan``: an errno on a commit or an observation, or a
/// concurrent writer committing just before ours, which the kernel answers
/// with ERESTART. Both are counted as ``/LinxKernelSim/SimFaultKind/errno``: what the
/// Source sees is the kernel refusing the operation with an errno.
extension NftablesSimSubject: FuzzableSubject {
    public var fuzzKinds: Set<SimFaultKind> { [.errno, .drift, .reboot] }

    public func armFaults(_ faults: FuzzFaults, in sandbox: Sandbox) async throws {
        guard faults.kinds.contains(.errno) else { return }
        sandbox.kernel.failNftFraction(faults.rate, errnos: [.noBufferSpace, .resourceBusy, .noMemory], races: true)
    }

    public func disarmFaults(in sandbox: Sandbox) async throws {
        sandbox.kernel.clearNftFaults()
        sandbox.kernel.clearFaults()
    }

    public func faultsFired(in sandbox: Sandbox) -> [SimFaultKind: Int] {
        var fired = sandbox.kernel.faultsFired
        let nft = sandbox.kernel.nftFaultsFired
        let errnos = nft[.errno, default: 0] + nft[.generationRace, default: 0]
        if errnos > 0 { fired[.errno, default: 0] += errnos }
        if let overflows = nft[.overflow] { fired[.overflow, default: 0] += overflows }
        return fired
    }

    public func reboot(_ sandbox: Sandbox) async throws {
        sandbox.kernel.reboot()
    }

    public func openMonitor(in sandbox: Sandbox) async -> MonitorProbe? {
        guard let events = try? await sandbox.kernel.nftEvents(in: sandbox.scope.netns) else { return nil }
        return MonitorProbe {
            do {
                for try await _ in events {}
                return false
            } catch {
                return true
            }
        }
    }

    public func recordsHistory(_ enabled: Bool, in sandbox: Sandbox) {
        sandbox.kernel.recordsHistory = enabled
    }

    public func history(of sandbox: Sandbox) -> [String] {
        sandbox.kernel.history.map(\.description)
    }

    public func faultLog(of sandbox: Sandbox) -> [String] {
        sandbox.kernel.history.filter { $0.actor == .fault }.map(\.faultLine)
    }

    public func describe(_ lastApplied: NftLastApplied) -> [String] {
        [lastApplied.ownsTable ? "owns table \(NftablesStateModel.table)" : "owns nothing"]
    }
}
