import LinxKernelSim
import LinxReconcile

/// Draws seeded step sequences: one seed gives one sequence on every
/// machine. Each subsystem has its own draw; a new subsystem adds a case to
/// ``FidelitySubsystem`` and a draw here.
///
/// The rtnl draw covers what the simulator was found to get wrong: IPv4
/// and IPv6 addresses of every interesting length (/0, /8 on a zero
/// network, /31, /32, /127, /128, same-subnet secondaries), routes with
/// reachable, unreachable and link-local gateways, tables 100, 200, 253
/// and 255, metrics, default routes, route types, routes holding an
/// address's subnet key, deletes of the kernel's own routes, IPv6
/// forwarding and disable_ipv6, and links going down, up, away and back.
package struct FidelityGenerator: Sendable {
    /// The links every sequence starts with (besides lo), all up.
    public static let links = ["v0", "v1", "br0"]

    /// The `net.` keys the sysctl draw writes; the caller passes the
    /// kernel's own list (minus the ones the sequence must not touch).
    public var sysctlKeys: [SysctlKey]
    /// The subsystems to draw from.
    public var subsystems: [FidelitySubsystem]

    /// A generator over `subsystems`, writing only `sysctlKeys`.
    public init(subsystems: [FidelitySubsystem], sysctlKeys: [SysctlKey]) {
        self.subsystems = subsystems
        self.sysctlKeys = sysctlKeys
    }

    /// The sequence of `count` steps for `seed`.
    public func sequence(seed: UInt64, count: Int) -> [FidelityStep] {
        var rng = SimRandom(seed: seed)
        return (0..<count).map { _ in
            switch rng.pick(subsystems) {
            case .rtnl: rtnl(&rng)
            case .sysctl: sysctl(&rng)
            }
        }
    }

    // MARK: rtnl

    static let devices = ["v0", "v0", "v1", "br0", "lo"]

    func rtnl(_ rng: inout SimRandom) -> FidelityStep {
        switch rng.below(20) {
        case 0..<5: return .rtnl(.addAddress(address(&rng)))
        case 5, 6: return .rtnl(.deleteAddress(address(&rng)))
        case 7..<11: return .rtnl(.addRoute(route(&rng)))
        case 11: return .rtnl(.replaceRoute(route(&rng)))
        case 12..<15: return .rtnl(.deleteRoute(deletion(&rng)))
        case 15, 16:
            let name = rng.pick(["v0", "v1", "br0"])
            return .link(.set(name, up: rng.chance(0.7)))
        case 17: return rng.chance(0.5) ? .link(.delete("br0")) : .link(.addBridge("br0"))
        default:
            let key = rng.pick([
                "net.ipv6.conf.all.forwarding", "net.ipv6.conf.v0.forwarding", "net.ipv6.conf.v1.disable_ipv6",
                "net.ipv6.conf.v0.disable_ipv6", "net.ipv4.conf.all.forwarding", "net.ipv4.conf.v0.promote_secondaries",
            ])
            return .sysctl(try! SysctlKey(key), rng.chance(0.6) ? "1" : "0")
        }
    }

    func address(_ rng: inout SimRandom) -> InterfaceAddress {
        let dev = rng.pick(Self.devices)
        let text: String
        if rng.chance(0.6) {
            text = rng.chance(0.1)
                ? rng.pick(["0.1.2.3/8", "0.0.1.5/24", "10.0.9.1/0", "0.1.2.3/16"])
                : "10.0.\(rng.below(3)).\(1 + rng.below(4))/\(rng.pick([24, 24, 24, 16, 31, 32]))"
        } else {
            text = rng.chance(0.1)
                ? rng.pick(["2001:db8:9::1/0", "::5/64"])
                : "\(rng.pick(["fc00::", "2001:db8:1::"]))\(1 + rng.below(3))/\(rng.pick([64, 64, 127, 128]))"
        }
        let prefix = try! IPPrefix.parseInterface(text)
        return InterfaceAddress(ifindex: 0, address: prefix.0, prefixLength: prefix.1, interfaceName: dev)
    }

    func route(_ rng: inout SimRandom) -> Route {
        let v6 = rng.chance(0.4)
        var type = RouteType.unicast
        if rng.chance(0.12) { type = rng.pick([.blackhole, .unreachable, .prohibit, .local]) }
        let destination = try! IPPrefix(
            v6 ? rng.pick(["2001:db8:5::/48", "::/0", "fc00::/64", "2001:db8:1::/64", "fc00::2/128"])
                : rng.pick(["10.10.0.0/16", "192.168.1.0/24", "0.0.0.0/0", "10.0.1.0/24", "10.0.0.0/24", "10.0.2.9/32"]))
        var gateway: IPAddress?
        var dev: String?
        if type == .unicast && rng.chance(0.65) {
            gateway = try! IPAddress(
                v6 ? rng.pick(["fc00::1", "fc00::9", "fe80::1", "2001:db8:1::2", "2001:db8:7::1"])
                    : "10.0.\(rng.below(3)).\(rng.pick([1, 9, 9, 255]))")
            if gateway!.isIPv6LinkLocal || rng.chance(0.3) { dev = rng.pick(Self.devices) }
        } else if type != .blackhole && type != .unreachable && type != .prohibit || rng.chance(0.2) {
            dev = rng.pick(Self.devices)
        }
        let table = rng.pick([RouteTable.main, RouteTable.main, RouteTable.main, 100, 200, 253, RouteTable.local])
        let metric: UInt32 = v6 ? rng.pick([0, 0, 1024, 256, 10]) : rng.pick([0, 0, 0, 10, 100])
        // What iproute2 and the reconciler send: link scope for an on-link
        // unicast route, host for a local one, universe otherwise.
        let scope: UInt8 = v6 ? 0 : (type == .local ? 254 : (type == .unicast && gateway == nil ? 253 : 0))
        return Route(
            destination: destination, gateway: gateway, table: table, metric: metric,
            proto: rng.pick([RouteProtocol.linx, RouteProtocol.linx, RouteProtocol.static, RouteProtocol.boot]),
            scope: scope, type: type, interfaceName: dev)
    }

    /// A delete as the backends send it (key and protocol, see
    /// ``LinxReconcile/RtnlRequest/deleteRoute(_:)``): sometimes of the
    /// kernel's own connected route, with protocol kernel or none.
    func deletion(_ rng: inout SimRandom) -> Route {
        if rng.chance(0.35) {
            let v6 = rng.chance(0.3)
            let destination = try! IPPrefix(
                v6 ? "\(rng.pick(["fc00::", "2001:db8:1::"]))/64" : "10.0.\(rng.below(3)).0/24")
            return Route(
                destination: destination, table: RouteTable.main, metric: v6 ? 256 : 0,
                proto: rng.pick([0, RouteProtocol.kernel]))
        }
        let drawn = route(&rng)
        return Route(
            destination: drawn.destination, table: drawn.table, metric: drawn.metric,
            proto: rng.pick([0, drawn.proto, RouteProtocol.linx]))
    }

    // MARK: sysctl

    static let values = [
        "0", "1", "2", "3", "5", "-1", "abc", "5abc", "+4", "0x10", "010", " 7 \n", "", "\n", "1 2", "99999999999",
        "2147483647", "2147483648", "-2147483648", "2000 3000", "3000 2000", "1000 2000", "2500", "1024 65535",
        "1024 65536", "64", "255", "256", "0 2147483647", "5 1", "\r1", "1\r", "40000\r50000", "40000 \r50000",
        "32768", "32769", "61000", "1\t0", "cubic", "reno",
    ]

    func sysctl(_ rng: inout SimRandom) -> FidelityStep {
        guard !sysctlKeys.isEmpty else { return rtnl(&rng) }
        return .sysctl(rng.pick(sysctlKeys), rng.pick(Self.values))
    }
}

extension IPPrefix {
    /// `ADDR/LEN` split without masking (an interface address keeps its host bits).
    static func parseInterface(_ text: String) throws -> (IPAddress, Int) {
        let parts = text.split(separator: "/")
        return (try IPAddress(String(parts[0])), Int(parts[1])!)
    }
}
