import LinxReconcile

/// The subsystems the differential check drives. Each has its own
/// generator of steps; a sequence may mix them.
public enum FidelitySubsystem: String, Sendable, Hashable, CaseIterable, Codable {
    /// Addresses, routes and the link changes an operator makes with `ip`.
    case rtnl
    /// `net.` sysctl writes, well-formed and malformed.
    case sysctl
}

/// One operation of a differential sequence, named the way both kernels
/// understand it: links by name (each side resolves its own ifindex), the
/// rest exactly as a backend request carries it.
public enum FidelityStep: Sendable, Hashable, CustomStringConvertible {
    /// A request through ``/LinxReconcile/RtnlBackend/execute(_:in:stopOnError:)``. Its
    /// addresses' and routes' `interfaceName` names the link; the ifindex
    /// is filled in per side (an unknown name gets an index no link has).
    case rtnl(RtnlRequest)
    /// A write through ``/LinxReconcile/SysctlBackend/write(_:value:in:)``.
    case sysctl(SysctlKey, String)
    /// A foreign link change, made the way `ip` makes it.
    case link(FidelityLinkChange)

    public var description: String {
        switch self {
        case .rtnl(let request): Self.describe(request)
        case .sysctl(let key, let value): "sysctl \(key) = \(value.debugDescription)"
        case .link(let change): change.description
        }
    }

    static func describe(_ request: RtnlRequest) -> String {
        func route(_ r: Route) -> String {
            var text = "\(r.type) \(r.destination)"
            if let gateway = r.gateway { text += " via \(gateway)" }
            if let name = r.interfaceName { text += " dev \(name)" }
            text += " table \(r.table) metric \(r.metric) proto \(r.proto) scope \(r.scope)"
            return text
        }
        func address(_ a: InterfaceAddress) -> String {
            "\(a.address)/\(a.prefixLength) dev \(a.interfaceName ?? "?")" + (a.proto.map { " proto \($0)" } ?? "")
        }
        switch request {
        case .addAddress(let a): return "address add \(address(a))"
        case .deleteAddress(let a): return "address delete \(address(a))"
        case .addRoute(let r): return "route add \(route(r))"
        case .replaceRoute(let r): return "route replace \(route(r))"
        case .deleteRoute(let r): return "route delete \(route(r))"
        }
    }
}

/// A change to the links themselves, which no backend protocol makes: on
/// the real kernel it runs `ip link ...`, on the simulator the matching
/// ``/LinxKernelSim/SimKernel`` call.
public enum FidelityLinkChange: Sendable, Hashable, CustomStringConvertible {
    /// `ip link set NAME up|down`.
    case set(String, up: Bool)
    /// `ip link add NAME type bridge` (down).
    case addBridge(String)
    /// `ip link del NAME`.
    case delete(String)

    /// The `ip link` arguments.
    public var ipArguments: [String] {
        switch self {
        case .set(let name, let up): ["link", "set", name, up ? "up" : "down"]
        case .addBridge(let name): ["link", "add", name, "type", "bridge"]
        case .delete(let name): ["link", "del", name]
        }
    }

    public var description: String { "ip " + ipArguments.joined(separator: " ") }
}

/// What the kernel answered to one step: done, or refused with an errno and
/// the extended-ack text (nil when the kernel gave none).
public enum FidelityOutcome: Sendable, Hashable, CustomStringConvertible {
    case ok
    case refused(KernelError)

    public var description: String {
        switch self {
        case .ok: "ok"
        case .refused(let error): "\(error.errno.symbolicName) \(error.message.map { "\"\($0)\"" } ?? "(no ext-ack)")"
        }
    }
}
