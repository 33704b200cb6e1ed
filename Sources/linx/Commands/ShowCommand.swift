import ArgumentParser
import Foundation
import LinxHost
import LinxReconcile

/// `linx show`: the observed state, in the desired-state file format.
struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the kernel's current state in the desired-state format.",
        discussion: """
            `linx show > host.yaml` is a valid start for a desired-state file: it is \
            printed by the same document type `linx apply` reads. Routes tagged with \
            linx's protocol are listed as entries; other non-kernel routes are listed \
            as comments, so applying the output never takes over a route someone else \
            installed. Loopback and IPv6 link-local addresses, which the kernel \
            manages, are left out of the entries.

            --all also lists, as comments, every object the entries leave out: the \
            kernel's own routes in every table (type, scope, protocol, table, \
            metric) and every address (which IPv4 address is its subnet's primary, \
            which a secondary, its IFA_PROTO tag), and a route's preferred source \
            address (prefsrc) when it has one.

            A --sysctl key or prefix that does not exist is reported (as a comment, \
            or in "missingSysctls" with --json) instead of failing the whole command.

            --nftables FAMILY/NAME shows an nf_tables table (default inet/linx) when it \
            exists, as nft lists it; one without linx's marker is flagged.

            --json prints {"document": the desired-state document as JSON, \
            "observed": {"addresses": [...], "routes": [...]}, "missingSysctls": [...], \
            "unmarkedTables": [...]}: \
            the routes that are not entries (each with its owner, foreign or kernel) \
            and, with --all, every address (owner entry or kernel).
            """)

    enum Section: String, ExpressibleByArgument, CaseIterable { case rtnl, sysctl, cgroups, nftables }

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

    @Option(name: .customLong("nftables"), help: ArgumentHelp("An nf_tables table to show, FAMILY/NAME (repeatable).", valueName: "table"))
    var nftTables: [String] = ["inet/linx"]

    @Flag(help: "Also list the kernel's own routes (every table) and addresses, with type, scope and primary/secondary.")
    var all = false

    @Flag(help: "Print JSON instead of YAML.")
    var json = false

    @OptionGroup var scope: ScopeOptions
    @OptionGroup var backend: BackendOptions

    func run() async throws {
        try await runReportingErrors {
            let host = try await Host.open(backend, scope, needsRoot: false)
            var observed = Observed()
            if section == nil || section == .rtnl { try await rtnl(host, into: &observed) }
            if section == nil || section == .sysctl { try await sysctl(host, into: &observed) }
            if section == nil || section == .cgroups { try await cgroupFiles(host, into: &observed) }
            if section == nil || section == .nftables { try await nftables(host, into: &observed) }
            if json {
                try observed.printJSON()
            } else {
                print("# observed by linx show in the \(host.scope)")
                print(observed.document.yaml, terminator: "")
                observed.printComments()
            }
        }
    }

    /// What show found: the document, what it leaves out, and keys not found.
    struct Observed {
        var document = HostDocument()
        /// Routes outside the document's entries (foreign; with --all the
        /// kernel's too) and, with --all, every address, as `ip` shows them.
        var unmanagedAddresses: [[String: Any]] = []
        var unmanagedRoutes: [[String: Any]] = []
        var missingSysctls: [String] = []
        /// Tables shown that do not carry linx's marker (not linx's to change).
        var unmarkedTables: [String] = []

        func printComments() {
            if !unmanagedAddresses.isEmpty || !unmanagedRoutes.isEmpty {
                print("# observed, not entries (owner kernel or foreign), and with --all every address:")
            }
            for address in unmanagedAddresses { print("#   " + Self.line(address)) }
            for route in unmanagedRoutes { print("#   route " + Self.line(route)) }
            for key in missingSysctls { print("# missing sysctl: \(key) (no such key or prefix)") }
            for table in unmarkedTables { print("# nftables table \(table) has no linx marker: an apply would refuse it (EEXIST)") }
        }

        func printJSON() throws {
            let document = try JSONSerialization.jsonObject(with: Data(document.json.utf8))
            let object: [String: Any] = [
                "document": document,
                "observed": ["addresses": unmanagedAddresses, "routes": unmanagedRoutes],
                "missingSysctls": missingSysctls,
                "unmarkedTables": unmarkedTables,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        }

        /// `key value` pairs in a fixed order, for a comment line.
        private static func line(_ fields: [String: Any]) -> String {
            let order = ["destination", "address", "gateway", "interface", "prefsrc", "table", "metric", "type", "scope", "protocol", "primary", "owner"]
            return order.compactMap { key in fields[key].map { "\(key) \($0)" } }.joined(separator: " ")
        }
    }

    private func rtnl(_ host: Host, into observed: inout Observed) async throws {
        let reconciler = RtnlReconciler(backend: host.backend)
        let state = try await reconciler.observe(in: host.scope, options: RtnlOptions(routeProtocol: `protocol`))
        let everything = try await host.backend.routes(in: host.scope, matching: all ? .all : RouteFilter(table: RouteTable.main))
        let names = Dictionary(state.links.map { ($0.index, $0.name) }, uniquingKeysWith: { a, _ in a })
        var addresses: [RtnlAddressEntry] = []
        // The kernel dumps a link's IPv4 primaries before its secondaries:
        // the first address of a subnet on a link is its primary.
        struct Subnet: Hashable { var ifindex: Int32, length: Int, network: IPAddress }
        var subnets = Set<Subnet>()
        for address in state.addresses {
            let name = names[address.ifindex] ?? "#\(address.ifindex)"
            var primary: Bool?
            if case .v4 = address.address {
                let subnet = Subnet(ifindex: address.ifindex, length: address.prefixLength, network: address.address.masked(to: address.prefixLength))
                primary = subnets.insert(subnet).inserted
            }
            let kernelOwned = name == "lo" || address.address.isIPv6LinkLocal
            if !kernelOwned {
                addresses.append(RtnlAddressEntry(interface: name, address: "\(address.address)/\(address.prefixLength)"))
            }
            if all {
                var fields: [String: Any] = ["address": "\(address.address)/\(address.prefixLength)", "interface": name]
                if let primary { fields["primary"] = primary }
                if let tag = address.proto { fields["protocol"] = Int(tag) }
                fields["owner"] = kernelOwned ? "kernel" : "entry"
                observed.unmanagedAddresses.append(fields)
            }
        }
        addresses.sort { ($0.interface, $0.address) < ($1.interface, $1.address) }
        let routes = state.routes.sorted { $0.key < $1.key }.map { Self.entry($0, names) }
        for route in everything.sorted(by: { $0.key < $1.key }) where route.proto != `protocol` {
            let foreign = route.proto != RouteProtocol.kernel && route.type == .unicast
            guard foreign || all else { continue }
            var fields: [String: Any] = [
                "destination": route.destination.description, "table": Int(route.table), "metric": Int(route.metric),
                "type": "\(route.type)", "scope": Int(route.scope), "protocol": Int(route.proto),
                "owner": foreign ? "foreign" : "kernel",
            ]
            if let gateway = route.gateway { fields["gateway"] = gateway.description }
            if let index = route.ifindex { fields["interface"] = names[index] ?? "#\(index)" }
            if let prefsrc = route.prefsrc { fields["prefsrc"] = prefsrc.description }
            observed.unmanagedRoutes.append(fields)
        }
        var options = RtnlOptions.default
        options.routeProtocol = `protocol`
        observed.document.rtnl = .init(desired: RtnlDesiredState(addresses: addresses, routes: routes), options: options)
    }

    /// A route of ours as a desired entry that reads back to it.
    static func entry(_ route: Route, _ names: [Int32: String]) -> RtnlRouteEntry {
        // "default" takes its family from the gateway; without one the
        // parser needs 0.0.0.0/0 or ::/0 spelled out.
        let isDefault = route.destination.length == 0 && route.gateway != nil
        return RtnlRouteEntry(
            destination: isDefault ? "default" : route.destination.description,
            gateway: route.gateway?.description,
            interface: route.gateway == nil ? route.ifindex.flatMap { names[$0] } : nil,
            table: route.table == RouteTable.main ? nil : route.table,
            metric: route.metric == Route.normalizedMetric(0, family: route.family) ? nil : route.metric)
    }

    private func sysctl(_ host: Host, into observed: inout Observed) async throws {
        var values: [SysctlKey: String] = [:]
        for prefix in sysctlPrefixes {
            let key: SysctlKey
            do { key = try SysctlKey(prefix) } catch { throw CommandError("--sysctl \(error)") }
            if let value = try? await host.backend.read(key, in: host.scope) {
                values[key] = value
            } else if let under = try? await SysctlReconciler(backend: host.backend).observe(in: host.scope, under: key),
                      !under.isEmpty {
                values.merge(under) { a, _ in a }
            } else {
                observed.missingSysctls.append(prefix)
            }
        }
        var desired = SysctlDesiredState()
        for (key, value) in values {
            let normalized = SysctlValue.normalized(value)
            desired[key.description] = Int(normalized).map(SysctlValue.integer) ?? .string(normalized)
        }
        observed.document.sysctl = .init(desired: desired)
    }

    /// The `--nftables` tables that exist, as the kernel lists them.
    private func nftables(_ host: Host, into observed: inout Observed) async throws {
        let reconciler = NftablesReconciler(backend: host.backend)
        var section = HostDocument.Nftables()
        for text in nftTables {
            let parts = text.split(whereSeparator: { $0 == "/" || $0 == " " }).map(String.init)
            guard parts.count == 2, let family = NftFamily(rawValue: parts[0]) else {
                throw CommandError("--nftables \(text): expected FAMILY/NAME, such as inet/linx")
            }
            let ref = NftTableRef(family, parts[1])
            guard let table = try await reconciler.observe(in: NftScope(host.scope, table: ref)).table else { continue }
            if table.comment != section.options.marker { observed.unmarkedTables.append(ref.description) }
            section.tables.append(.init(ref: ref, desired: table.content))
        }
        if !section.tables.isEmpty { observed.document.nftables = section }
    }

    /// The files a desired state can usefully hold: limits, not statistics.
    static let limitFiles: Set<String> = [
        "memory.max", "memory.high", "memory.low", "memory.min", "memory.swap.max", "pids.max",
        "cpu.max", "cpu.weight", "io.max", "cgroup.max.depth", "cgroup.max.descendants",
    ]

    private func cgroupFiles(_ host: Host, into observed: inout Observed) async throws {
        for path in cgroups {
            let values = try await CgroupReconciler(backend: host.backend).observe(in: path)
            var desired = CgroupDesiredState()
            for (file, value) in values where Self.limitFiles.contains(file) {
                desired[file] = CgroupValue(parsing: SysctlValue.normalized(value))
            }
            observed.document.cgroups.append(.init(path: path, desired: desired))
        }
    }
}
