import LinxKernelSim
import LinxLinux
import LinxReconcile
import LinxTestSupport

/// One side of the differential check: a kernel behind the backend
/// protocols, one namespace in it shaped like every sequence expects (lo,
/// the veth pair v0/v1 and the bridge br0, all up, IPv6 duplicate address
/// detection off), and a way to change its links as `ip` does.
public protocol FidelityKernel: Sendable {
    /// The backend the steps go through.
    associatedtype Backend: RtnlBackend & SysctlBackend
    /// `sim` or `kernel`, for reports.
    var label: String { get }
    /// The backend steps and dumps go through.
    var backend: Backend { get }
    /// The namespace the sequence runs in.
    var scope: NetnsScope { get }
    /// Makes a link change; the error says only that it failed (`ip` prints
    /// text, not an errno), so link changes compare as done or not.
    func change(_ link: FidelityLinkChange) async -> Bool
    /// Removes what the side made (the real kernel's namespace).
    func close()
}

/// The simulator's side: a fresh ``/LinxKernelSim/SimKernel`` and namespace per sequence.
public struct SimFidelityKernel: FidelityKernel {
    /// The simulated kernel.
    public let backend: SimKernel
    public let scope = NetnsScope.named("linx-fidelity")
    public var label: String { "sim" }

    /// A simulated kernel with the sequence's namespace set up.
    public init(seed: UInt64) throws(KernelError) {
        backend = SimKernel(seed: seed)
        try backend.createNamespace(scope)
        // As ThrowawayNamespace does before it makes the links.
        for dir in ["all", "default"] { try backend.foreign.writeSysctl("net.ipv6.conf.\(dir).accept_dad", "0", in: scope) }
        try backend.setLink("lo", up: true, in: scope)
        try backend.addVethPair("v0", "v1", up: true, in: scope)
        try backend.addBridge("br0", up: true, in: scope)
    }

    public func change(_ link: FidelityLinkChange) async -> Bool {
        do throws(KernelError) {
            switch link {
            case .set(let name, let up): try backend.setLink(name, up: up, in: scope)
            case .addBridge(let name): try backend.addBridge(name, up: false, in: scope)
            case .delete(let name): try backend.removeLink(name, in: scope)
            }
            return true
        } catch {
            return false
        }
    }

    public func close() {}
}

/// The real kernel's side: ``/LinxLinux/LinuxKernel`` in a
/// ``/LinxTestSupport/ThrowawayNamespace`` made for the sequence and removed by
/// ``close()``. Needs root.
public struct LinuxFidelityKernel: FidelityKernel {
    public let backend: LinuxKernel
    /// The throwaway namespace.
    public let namespace: ThrowawayNamespace
    public var scope: NetnsScope { namespace.scope }
    public var label: String { "kernel" }

    /// Creates the namespace with `lo`, `v0`/`v1` and `br0` up.
    public init(backend: LinuxKernel) throws(Command.Failure) {
        self.backend = backend
        namespace = try ThrowawayNamespace.create(links: [.veth("v0", peer: "v1"), .bridge("br0")])
    }

    public func change(_ link: FidelityLinkChange) async -> Bool {
        let done = Command.run(["ip", "-n", namespace.name] + link.ipArguments).status == 0
        await settleLinkwatch()
        return done
    }

    /// Waits (at most a second) until linkwatch has caught up: a carrier
    /// change reaches operstate, and addrconf, in deferred work, so the
    /// next step could otherwise race it. Carrier shows at once in the
    /// LOWER_UP flag, operstate once linkwatch ran.
    func settleLinkwatch() async {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(1)
        while clock.now < deadline {
            let text = Command.run(["ip", "-n", namespace.name, "-o", "link", "show"]).stdout
            let settled = text.split(separator: "\n").allSatisfy { line in
                let up = line.contains(",UP") || line.contains("<UP")
                let carrier = line.contains("LOWER_UP")
                if !up { return line.contains("state DOWN") }
                return carrier == (line.contains("state UP") || line.contains("state UNKNOWN"))
            }
            if settled {
                // One more read: it waits behind the notifier run that followed the operstate change.
                _ = Command.run(["ip", "-n", namespace.name, "-o", "link", "show"])
                return
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    public func close() { namespace.remove() }
}
