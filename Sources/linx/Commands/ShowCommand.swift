import ArgumentParser
import Foundation
import LinxReconcile

/// `linx show`: the observed state, in the desired-state file format.
struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the kernel's current state in the desired-state format.",
        discussion: """
            `linx show > host.yaml` is a valid start for a desired-state file. Routes \
            tagged with linx's protocol are listed as entries; other non-kernel routes \
            are listed as comments, so applying the output never takes over a route \
            someone else installed. Loopback and IPv6 link-local addresses, which the \
            kernel manages, are left out.
            """)

    enum Section: String, ExpressibleByArgument, CaseIterable { case rtnl, sysctl, cgroups }

    @Option(help: "Show only this section.")
    var section: Section?

    @Option(help: "The route protocol linx owns (as in the file's rtnl.protocol).")
    var `protocol`: UInt8 = RouteProtocol.linx

    @Option(name: .customLong("sysctl"), help: ArgumentHelp("A sysctl key or prefix to show (repeatable).", valueName: "key"))
    var sysctlPrefixes: [String] = [
        "net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding", "net.ipv4.conf.all.rp_filter",
        "net.ipv6.conf.all.forwarding", "net.ipv4.ip_local_port_range", "net.core.somaxconn",
    ]

    @Option(name: .customLong("cgroup"), help: ArgumentHelp("A cgroup directory to show (repeatable).", valueName: "path"))
    var cgroups: [String] = []

    @OptionGroup var scope: ScopeOptions
    @OptionGroup var backend: BackendOptions

    func run() async throws {
        try await runReportingErrors {
            let host = try await Host.open(backend, scope, needsRoot: false)
            var out = ["# observed by linx show in the \(host.scope)"]
            if section == nil || section == .rtnl { out += try await rtnl(host) }
            if section == nil || section == .sysctl { out += try await sysctl(host) }
            if section == nil || section == .cgroups, !cgroups.isEmpty { out += try await cgroupLines(host) }
            print(out.joined(separator: "\n"))
        }
    }

    private func rtnl(_ host: Host) async throws -> [String] {
        let reconciler = RtnlReconciler(backend: host.backend)
        let observed = try await reconciler.observe(in: host.scope, options: RtnlOptions(routeProtocol: `protocol`))
        let all = try await host.backend.routes(in: host.scope, matching: RouteFilter(table: RouteTable.main))
        let names = Dictionary(observed.links.map { ($0.index, $0.name) }, uniquingKeysWith: { a, _ in a })
        var out = ["rtnl:", "  protocol: \(`protocol`)", "  addresses:"]
        for address in observed.addresses.sorted(by: { $0.key < $1.key }) {
            guard let name = names[address.ifindex], name != "lo", !address.address.isIPv6LinkLocal else { continue }
            out.append("    - { interface: \(name), address: \(address.address)/\(address.prefixLength) }")
        }
        out.append("  routes:")
        for route in observed.routes.sorted(by: { $0.key < $1.key }) { out.append("    - " + Self.entry(route, names)) }
        for route in all.sorted(by: { $0.key < $1.key })
        where route.proto != `protocol` && route.proto != RouteProtocol.kernel && route.type == .unicast {
            out.append("    # foreign (proto \(route.proto)): " + Self.entry(route, names))
        }
        return out
    }

    static func entry(_ route: Route, _ names: [Int32: String]) -> String {
        // "default" takes its family from the gateway; without one the
        // parser needs 0.0.0.0/0 or ::/0 spelled out.
        let isDefault = route.destination.length == 0 && route.gateway != nil
        var fields = ["destination: \(isDefault ? "default" : route.destination.description)"]
        if let gateway = route.gateway { fields.append("gateway: \(gateway)") }
        if let index = route.ifindex, let name = names[index], route.gateway == nil { fields.append("interface: \(name)") }
        if route.table != RouteTable.main { fields.append("table: \(route.table)") }
        if route.metric != Route.normalizedMetric(0, family: route.family) { fields.append("metric: \(route.metric)") }
        return "{ " + fields.joined(separator: ", ") + " }"
    }

    private func sysctl(_ host: Host) async throws -> [String] {
        var values: [SysctlKey: String] = [:]
        for prefix in sysctlPrefixes {
            let key: SysctlKey
            do { key = try SysctlKey(prefix) } catch { throw CommandError("--sysctl \(error)") }
            if let value = try? await host.backend.read(key, in: host.scope) {
                values[key] = value
            } else {
                values.merge(try await SysctlReconciler(backend: host.backend).observe(in: host.scope, under: key)) { a, _ in a }
            }
        }
        var out = ["sysctl:", "  keys:"]
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            out.append("    \(key): " + Self.yamlValue(value))
        }
        return out
    }

    /// A value as the parser reads it back: integers bare, anything else quoted.
    static func yamlValue(_ value: String) -> String {
        let normalized = SysctlValue.normalized(value)
        return Int(normalized) != nil ? normalized : "\"\(normalized)\""
    }

    /// The files a desired state can usefully hold: limits, not statistics.
    static let limitFiles: Set<String> = [
        "memory.max", "memory.high", "memory.low", "memory.min", "memory.swap.max", "pids.max",
        "cpu.max", "cpu.weight", "io.max", "cgroup.max.depth", "cgroup.max.descendants",
    ]

    private func cgroupLines(_ host: Host) async throws -> [String] {
        var out = ["cgroups:"]
        for path in cgroups {
            let values = try await CgroupReconciler(backend: host.backend).observe(in: path)
            out.append("  \(path):")
            for (file, value) in values.sorted(by: { $0.key < $1.key }) where Self.limitFiles.contains(file) {
                out.append("    \(file): " + Self.yamlValue(value))
            }
        }
        return out
    }
}
