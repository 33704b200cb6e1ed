#if os(Linux)
import Foundation
import LinxKernelSim
import LinxLinux
import LinxReconcile
import LinxTestSupport
import Testing

/// Replays seeded random IPv4 operation sequences on the simulator and, with
/// `ip`, on the real kernel in a throwaway namespace, and compares after
/// every step whether each operation succeeded and the resulting addresses
/// (each link's in dump order too)
/// and routes (every table, both families). Root only; otherwise skipped
/// with the reason. The namespace runs with accept_dad 0, since the
/// simulator models the state after duplicate address detection; link-local
/// addresses (MAC-derived on the kernel) compare as "LL".
@Suite("Fidelity against the real kernel", .enabled(if: RealKernel.available, "needs root and iproute2 (ip)"))
struct RealKernelFidelityTests {
    /// Seeds 1...4 by default; LINX_FIDELITY_SEEDS=N runs seeds 1...N for a deeper check.
    static let seeds: [UInt64] = Array(1...UInt64(ProcessInfo.processInfo.environment["LINX_FIDELITY_SEEDS"].flatMap(UInt64.init) ?? 4))

    @Test("random IPv4 and IPv6 sequences: same outcomes, same addresses and routes", arguments: seeds)
    func replay(seed: UInt64) async throws {
        RealKernel.reapStale(prefix: "linx-simfid")
        let name = "linx-simfid-\(getpid())-\(seed)"
        try RealKernel.ip("netns", "add", name)
        defer { _ = try? RealKernel.ip("netns", "del", name) }
        for key in ["all", "default"] {
            try RealKernel.ip("netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.\(key).accept_dad=0")
        }
        let sim = SimKernel(seed: seed)
        let scope = NetnsScope.named(name)
        try sim.createNamespace(scope)
        for command in [["link", "add", "v0", "type", "veth", "peer", "name", "v1"], ["link", "add", "br0", "type", "bridge"]] {
            try RealKernel.ip(["-n", name] + command)
        }
        try sim.addVethPair("v0", "v1", up: false, in: scope)
        try sim.addBridge("br0", up: false, in: scope)
        var rng = SimRandom(seed: seed)
        var trace: [String] = []
        for step in 0..<150 {
            let op = FidelityOp.random(&rng)
            let real = (try? RealKernel.ip(["-n", name] + op.ipArguments)) != nil
            let simulated = op.apply(on: sim, in: scope)
            trace.append("\(step) \(op.ipArguments.joined(separator: " ")) -> \(real ? "ok" : "fail")/\(simulated ? "ok" : "fail")")
            #expect(real == simulated, "step \(step) \(op.ipArguments.joined(separator: " ")): real \(real ? "ok" : "failed"), sim \(simulated ? "ok" : "failed")")
            let simState = try FidelityOp.state(of: sim, in: scope)
            var realState = try RealKernel.state(name)
            // The kernel finishes some changes asynchronously: carrier changes reach addrconf
            // through linkwatch (rate-limited, up to a second), and an IPv6 address gets its
            // local route from the DAD worker even with accept_dad 0. Let it settle, bounded,
            // before calling a difference real.
            for _ in 0..<15 where realState != simState {
                usleep(100_000)
                realState = try RealKernel.state(name)
            }
            #expect(realState == simState, "step \(step) \(op.ipArguments.joined(separator: " ")): real \(realState.subtracting(simState).sorted()) sim \(simState.subtracting(realState).sorted())")
            if real != simulated || realState != simState {
                if ProcessInfo.processInfo.environment["LINX_FIDELITY_TRACE"] != nil {
                    print("seed \(seed) trace:\n" + trace.joined(separator: "\n"))
                }
                break
            }
        }
    }
}

/// One operation both sides understand.
enum FidelityOp {
    case addressAdd(String, String, Int), addressDelete(String, String, Int)
    case routeAdd(replace: Bool, destination: String, gateway: String?, dev: String?, metric: UInt32, table: UInt32, proto: UInt8)
    case routeDelete(destination: String, gateway: String?, metric: UInt32, table: UInt32)
    case linkSet(String, up: Bool)
    case bridgeDelete, bridgeAdd

    static let devices = ["v0", "v1", "br0"]

    static func random(_ rng: inout SimRandom) -> FidelityOp {
        rng.chance(0.4) ? random6(&rng) : random4(&rng)
    }

    /// IPv6: a metric is always named (Route stores metric 0 as 1024, so a
    /// metric-less IPv6 delete, a wildcard for the kernel, is not modelled).
    static func random6(_ rng: inout SimRandom) -> FidelityOp {
        let dev = rng.pick(devices)
        let address = "fc00::\(1 + rng.below(3))"
        let length = rng.pick([64, 64, 128])
        let destination = rng.pick(["2001:db8::/48", "2001:db8:1::/48"])
        let gateway = rng.pick(["fc00::1", "fc00::9", "fc00::9", "fe80::1"])
        let metric = rng.pick([1024, 1024, 10] as [UInt32])
        let table = rng.pick([RouteTable.main, RouteTable.main, 100])
        switch rng.below(10) {
        case 0, 1: return .addressAdd(dev, address, length)
        case 2: return .addressDelete(dev, address, length)
        case 3, 4:
            let viaGateway = rng.chance(0.7)
            let needsDev = gateway.hasPrefix("fe80")
            return .routeAdd(
                replace: false, destination: destination, gateway: viaGateway ? gateway : nil,
                dev: viaGateway && !needsDev && rng.chance(0.7) ? nil : dev, metric: metric, table: table, proto: rng.pick([76, 4]))
        case 5:
            return .routeAdd(replace: true, destination: destination, gateway: "fc00::9", dev: nil, metric: metric, table: table, proto: 76)
        case 6, 7:
            return .routeDelete(destination: destination, gateway: rng.chance(0.3) ? gateway : nil, metric: metric, table: table)
        default: return .linkSet(dev, up: rng.chance(0.75))
        }
    }

    static func random4(_ rng: inout SimRandom) -> FidelityOp {
        let dev = rng.pick(devices)
        let address = "10.0.\(rng.below(3)).\(1 + rng.below(4))"
        let length = rng.pick([24, 24, 16, 32])
        let destination = rng.pick(["10.10.0.0/16", "10.11.0.0/16", "192.168.0.0/24", "192.168.1.0/24"])
        let gateway = "10.0.\(rng.below(3)).\(rng.pick([1, 9, 9, 255]))"
        let metric = rng.pick([0, 0, 10] as [UInt32])
        let table = rng.pick([RouteTable.main, RouteTable.main, 100])
        switch rng.below(11) {
        case 0, 1: return .addressAdd(dev, address, length)
        case 2: return .addressDelete(dev, address, length)
        case 3, 4:
            let viaGateway = rng.chance(0.7)
            return .routeAdd(
                replace: false, destination: destination, gateway: viaGateway ? gateway : nil,
                dev: viaGateway && rng.chance(0.7) ? nil : dev, metric: metric, table: table, proto: rng.pick([76, 4]))
        case 5:
            return .routeAdd(replace: true, destination: destination, gateway: gateway, dev: nil, metric: metric, table: table, proto: 76)
        case 6, 7:
            return .routeDelete(destination: destination, gateway: rng.chance(0.3) ? gateway : nil, metric: metric, table: table)
        case 8, 9: return .linkSet(dev, up: rng.chance(0.75))
        default: return rng.chance(0.5) ? .bridgeDelete : .bridgeAdd
        }
    }

    var ipArguments: [String] {
        switch self {
        case .addressAdd(let dev, let a, let len): return ["addr", "add", "\(a)/\(len)", "dev", dev]
        case .addressDelete(let dev, let a, let len): return ["addr", "del", "\(a)/\(len)", "dev", dev]
        // `ip route` takes the family from the destination
        case .routeAdd(let replace, let dst, let gw, let dev, let metric, let table, let proto):
            var args = (dst.contains(":") ? ["-6"] : []) + ["route", replace ? "replace" : "add", dst]
            if let gw { args += ["via", gw] }
            if let dev { args += ["dev", dev] }
            return args + ["metric", "\(metric)", "table", "\(table)", "proto", "\(proto)"]
        // A delete names no gateway: the backends' RTM_DELROUTE matches by key and protocol only.
        case .routeDelete(let dst, _, let metric, let table):
            var args = ["route", "del", dst]
            if metric != 0 { args += ["metric", "\(metric)"] }
            if dst.contains(":") { args = ["-6"] + args }
            return args + ["table", "\(table)"]
        case .linkSet(let dev, let up): return ["link", "set", dev, up ? "up" : "down"]
        case .bridgeDelete: return ["link", "del", "br0"]
        case .bridgeAdd: return ["link", "add", "br0", "type", "bridge"]
        }
    }

    /// Applies the operation as `ip` sends it; true when it succeeded.
    func apply(on sim: SimKernel, in scope: NetnsScope) -> Bool {
        func index(_ dev: String) -> Int32 { sim.ifindex(of: dev, in: scope) ?? 9999 }
        func address(_ dev: String, _ a: String, _ len: Int) -> InterfaceAddress {
            InterfaceAddress(ifindex: index(dev), address: try! IPAddress(a), prefixLength: len)
        }
        let request: RtnlRequest
        switch self {
        case .addressAdd(let dev, let a, let len): request = .addAddress(address(dev, a, len))
        case .addressDelete(let dev, let a, let len): request = .deleteAddress(address(dev, a, len))
        case .routeAdd(let replace, let dst, let gw, let dev, let metric, let table, let proto):
            // iproute2 gives a route without gateway scope link
            let route = Route(
                destination: try! IPPrefix(dst), gateway: gw.map { try! IPAddress($0) }, ifindex: dev.map(index),
                table: table, metric: metric, proto: proto, scope: gw == nil ? 253 : 0)
            request = replace ? .replaceRoute(route) : .addRoute(route)
        case .routeDelete(let dst, _, let metric, let table):
            // iproute2 leaves protocol and type unset on delete
            request = .deleteRoute(Route(destination: try! IPPrefix(dst), table: table, metric: metric, proto: 0))
        case .linkSet(let dev, let up):
            return (try? sim.setLink(dev, up: up, in: scope)) != nil
        case .bridgeDelete:
            return (try? sim.removeLink("br0", in: scope)) != nil
        case .bridgeAdd:
            return (try? sim.addBridge("br0", up: false, in: scope)) != nil
        }
        return (try? sim.foreign.execute([request], in: scope)[0].get()) != nil
    }

    /// The simulator's IPv4 addresses and routes in the canonical text form.
    static func state(of sim: SimKernel, in scope: NetnsScope) throws -> Set<String> {
        let snap = try sim.snapshot(of: scope)
        let names = Dictionary(uniqueKeysWithValues: snap.links.map { ($0.index, $0.name) })
        var out = Set<String>()
        var order: [String: [String]] = [:]
        for a in snap.addresses {
            let text = "\(RealKernel.linkLocal("\(a.address)"))/\(a.prefixLength)"
            out.insert("addr \(text) \(names[a.ifindex] ?? "?")")
            order["order \(names[a.ifindex] ?? "?") \(a.family == .ipv4 ? "inet" : "inet6")", default: []].append(text)
        }
        // The dump order of each link's addresses, per family (the first of a subnet is its primary).
        for (key, list) in order { out.insert("\(key): \(list.joined(separator: " "))") }
        for r in snap.routes {
            let host = r.destination.length == r.family.bitWidth
            out.insert(RealKernel.canonical(
                type: r.type.rawValue, dst: RealKernel.linkLocal(host ? "\(r.destination.address)" : "\(r.destination)"),
                table: r.table, proto: r.proto, scope: r.scope, gateway: r.gateway.map { "\($0)" },
                dev: r.ifindex.flatMap { names[$0] }, metric: r.metric))
        }
        return out
    }
}

/// Running `ip` as root.
enum RealKernel {
    static let available: Bool = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") || FileManager.default.isExecutableFile(atPath: "/sbin/ip")

    static var path: String { FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") ? "/usr/sbin/ip" : "/sbin/ip" }

    struct Failed: Error { var output: String }

    /// Deletes namespaces named `PREFIX-PID-...` whose process is gone: a
    /// test run that crashed never reached its `defer`.
    static func reapStale(prefix: String) {
        guard let list = try? ip("netns", "list") else { return }
        for line in list.split(separator: "\n") {
            guard let name = line.split(separator: " ").first, name.hasPrefix(prefix + "-") else { continue }
            let parts = name.dropFirst(prefix.count + 1).split(separator: "-")
            guard let pid = parts.first.flatMap({ Int32($0) }), kill(pid, 0) != 0, errno == ESRCH else { continue }
            _ = try? ip("netns", "del", String(name))
        }
    }

    @discardableResult
    static func ip(_ arguments: String...) throws -> String { try ip(arguments) }

    @discardableResult
    static func ip(_ arguments: [String]) throws -> String {
        let output = Command.run([path] + arguments)
        guard output.status == 0 else { throw Failed(output: output.stdout + output.stderr) }
        return output.stdout
    }

    /// A link-local address (not the fe80::/64 prefix) as "LL": the kernel
    /// derives it from a random MAC.
    static func linkLocal(_ text: String) -> String {
        text.hasPrefix("fe80:") && !text.contains("/") && text != "fe80::1" ? "LL" : text
    }

    static func canonical(type: UInt8, dst: String, table: UInt32, proto: UInt8, scope: UInt8, gateway: String?, dev: String?, metric: UInt32) -> String {
        "route type \(type) \(dst) table \(table) proto \(proto) scope \(scope) via \(gateway ?? "-") dev \(dev ?? "-") metric \(metric)"
    }

    /// The namespace's IPv4 addresses and routes (every table), canonical.
    static func state(_ namespace: String) throws -> Set<String> {
        var out = Set<String>()
        let addrs = try JSONSerialization.jsonObject(with: Data(try ip("-n", namespace, "-j", "addr", "show").utf8)) as? [[String: Any]] ?? []
        for link in addrs {
            let name = link["ifname"] as? String ?? "?"
            var order: [String: [String]] = [:]
            for info in link["addr_info"] as? [[String: Any]] ?? [] {
                let text = "\(linkLocal(info["local"] as? String ?? "?"))/\(info["prefixlen"] as? Int ?? -1)"
                out.insert("addr \(text) \(name)")
                order["order \(name) \(info["family"] as? String ?? "?")", default: []].append(text)
            }
            for (key, list) in order { out.insert("\(key): \(list.joined(separator: " "))") }
        }
        let v4 = try JSONSerialization.jsonObject(with: Data(try ip("-n", namespace, "-N", "-j", "-4", "route", "show", "table", "all").utf8)) as? [[String: Any]] ?? []
        let v6 = try JSONSerialization.jsonObject(with: Data(try ip("-n", namespace, "-N", "-j", "-6", "route", "show", "table", "all").utf8)) as? [[String: Any]] ?? []
        for r in v4 + v6 {
            out.insert(canonical(
                type: UInt8(r["type"] as? String ?? "1") ?? 0, dst: linkLocal(r["dst"] as? String ?? "?"),
                table: UInt32(r["table"] as? String ?? "254") ?? 0, proto: UInt8(r["protocol"] as? String ?? "0") ?? 0,
                scope: UInt8(r["scope"] as? String ?? "0") ?? 0, gateway: r["gateway"] as? String, dev: r["dev"] as? String,
                metric: UInt32(r["metric"] as? Int ?? 0)))
        }
        return out
    }
}
#endif
