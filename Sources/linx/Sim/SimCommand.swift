import ArgumentParser
import Foundation
import LinxFidelity
import LinxKernelSim
import LinxReconcile

/// `linx sim`: the simulated host behind `--backend sim --sim-state FILE`,
/// driven from outside: links made and changed, and foreign changes to
/// addresses, routes and sysctls made the way `ip` and `sysctl -w` make
/// them. Each accepted change is appended to the file's journal.
struct SimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Set up and change a simulated host (a --sim-state file) from outside.",
        discussion: """
            The file holds the host's layout and a journal of every change; a missing file is a \
            fresh host with eth0 and eth1. Changes here are someone else's, as if made with ip or \
            sysctl: routes get protocol boot (3) unless --proto says otherwise, and nothing becomes \
            linx's. A refused change prints the kernel's errno and text and leaves the file as it was.
            """,
        subcommands: [SimLinkCommand.self, SimAddressCommand.self, SimRouteCommand.self, SimSysctlCommand.self, SimShowCommand.self])
}

/// The simulated host a `linx sim` subcommand acts on.
struct SimHostOptions: ParsableArguments {
    @Option(name: .customLong("sim-state"), help: "The simulated host's file (created when missing).")
    var simState: String

    @Option(help: "A named network namespace of the simulated host (default: the host's own).")
    var netns: String?

    var scope: NetnsScope { netns.map(NetnsScope.named) ?? .current }
    var namespace: String { netns ?? "" }

    /// Boots the host, runs `change` on it, and journals `entry` when it was accepted.
    func change(_ entry: (SimKernel) throws -> SimJournalEntry) async throws {
        var file = try SimHostFile.load(path: simState)
        let kernel = try await file.boot()
        if case .path = scope, !kernel.namespaces.contains(scope) {
            throw CommandError("network namespace not found in the simulated host: \(namespace)")
        }
        let done: SimJournalEntry
        do {
            done = try entry(kernel)
        } catch let error as KernelError {
            throw CommandError("the simulated kernel refused: \(error)")
        }
        file.journal.append(done)
        try AtomicJSON.write(file, to: simState, what: "simulated host")
    }
}

struct SimLinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link", abstract: "ip link: add NAME [--type KIND] [--peer NAME] [--down] | set NAME up|down | del NAME")

    @OptionGroup var host: SimHostOptions
    @Argument(help: "add, set or del.") var action: String
    @Argument(help: "The link's name.") var name: String
    @Argument(help: "For set: up or down.") var state: String?
    @Option(help: "For add: the link kind (veth, bridge, ...).") var type: String = "veth"
    @Option(help: "For add: make a veth pair with this peer.") var peer: String?
    @Flag(help: "For add: leave the link down.") var down = false

    func run() async throws {
        let change: SimLinkChange
        switch action {
        case "add": change = peer.map { .addVeth(name: name, peer: $0, up: !down) } ?? .add(name: name, kind: type, up: !down)
        case "set":
            guard let state, state == "up" || state == "down" else { throw ValidationError("link set \(name): say up or down") }
            change = .set(name: name, up: state == "up")
        case "del", "delete": change = .delete(name: name)
        default: throw ValidationError("link: unknown action \"\(action)\" (add, set, del)")
        }
        try await host.change { kernel in
            try change.apply(on: kernel, in: host.scope)
            return .link(host.namespace, change)
        }
    }
}

struct SimAddressCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "addr", abstract: "ip addr: add|del ADDR/LEN dev NAME [--proto N]")

    @OptionGroup var host: SimHostOptions
    @Argument(help: "add or del.") var action: String
    @Argument(help: "ADDR/LEN, host bits kept.") var address: String
    @Option(help: "The link.") var dev: String
    @Option(help: "The address protocol (IFA_PROTO).") var proto: UInt8?

    func run() async throws {
        let parts = address.split(separator: "/")
        guard parts.count == 2, let length = Int(parts[1]), let ip = try? IPAddress(String(parts[0])) else {
            throw ValidationError("addr: \"\(address)\" is not ADDR/LEN")
        }
        guard action == "add" || action == "del" else { throw ValidationError("addr: unknown action \"\(action)\" (add, del)") }
        try await host.change { kernel in
            guard let index = kernel.ifindex(of: dev, in: host.scope) else { throw KernelError(.noSuchDevice, "no link \(dev)") }
            let entry = InterfaceAddress(ifindex: index, address: ip, prefixLength: length, proto: proto)
            let request: RtnlRequest = action == "add" ? .addAddress(entry) : .deleteAddress(entry)
            if case .failure(let error) = kernel.foreign.execute([request], in: host.scope)[0] { throw error }
            return action == "add" ? .addAddress(host.namespace, entry) : .deleteAddress(host.namespace, entry)
        }
    }
}

struct SimRouteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "ip route: add|replace|del PREFIX|default [--via GW] [--dev NAME] [--table N] [--metric N] [--proto N] [--type T]")

    @OptionGroup var host: SimHostOptions
    @Argument(help: "add, replace or del.") var action: String
    @Argument(help: "The destination prefix, or default (with --via, its family).") var destination: String
    @Option(help: "The gateway.") var via: String?
    @Option(help: "The output link.") var dev: String?
    @Option(help: "The table.") var table: UInt32 = RouteTable.main
    @Option(help: "The metric.") var metric: UInt32 = 0
    @Option(help: "rtm_protocol (default boot, 3, as ip sets it; a delete matches any unless given).") var proto: UInt8?
    @Option(help: "unicast, blackhole, unreachable, prohibit or local.") var type: String = "unicast"

    func run() async throws {
        let gateway = try via.map { text -> IPAddress in
            guard let ip = try? IPAddress(text) else { throw ValidationError("route: --via \"\(text)\" is not an address") }
            return ip
        }
        let prefix: IPPrefix
        if destination == "default" {
            prefix = .any(gateway?.family ?? .ipv4)
        } else if let parsed = try? IPPrefix(destination) {
            prefix = parsed
        } else {
            throw ValidationError("route: \"\(destination)\" is not a prefix")
        }
        let types: [String: RouteType] = ["unicast": .unicast, "blackhole": .blackhole, "unreachable": .unreachable, "prohibit": .prohibit, "local": .local]
        guard let routeType = types[type] else { throw ValidationError("route: unknown --type \"\(type)\"") }
        guard ["add", "replace", "del"].contains(action) else { throw ValidationError("route: unknown action \"\(action)\" (add, replace, del)") }
        try await host.change { kernel in
            var index: Int32?
            if let dev {
                guard let found = kernel.ifindex(of: dev, in: host.scope) else { throw KernelError(.noSuchDevice, "no link \(dev)") }
                index = found
            }
            // As iproute2 fills the header: scope link without a gateway, host for local.
            let scope: UInt8 = prefix.family == .ipv6 ? 0 : (routeType == .local ? 254 : (routeType == .unicast && gateway == nil ? 253 : 0))
            let route = Route(
                destination: prefix, gateway: gateway, ifindex: index, table: table, metric: metric,
                proto: proto ?? (action == "del" ? 0 : RouteProtocol.boot), scope: scope, type: routeType)
            let request: RtnlRequest = switch action {
                case "add": .addRoute(route)
                case "replace": .replaceRoute(route)
                default: .deleteRoute(route)
            }
            if case .failure(let error) = kernel.foreign.execute([request], in: host.scope)[0] { throw error }
            return SimJournalEntry(request, namespace: host.namespace)
        }
    }
}

struct SimSysctlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sysctl", abstract: "sysctl -w KEY=VALUE")

    @OptionGroup var host: SimHostOptions
    @Argument(help: "KEY=VALUE, the key dotted or slashed.") var assignment: String

    func run() async throws {
        guard let equals = assignment.firstIndex(of: "=") else { throw ValidationError("sysctl: \"\(assignment)\" is not KEY=VALUE") }
        let key: SysctlKey
        do { key = try SysctlKey(String(assignment[..<equals])) } catch { throw ValidationError("sysctl: \(error)") }
        let value = String(assignment[assignment.index(after: equals)...])
        try await host.change { kernel in
            try kernel.foreign.writeSysctl(key.description, value, in: host.scope)
            return .sysctl(host.namespace, key: key, value: value)
        }
    }
}

struct SimShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print the simulated host's links, addresses (in dump order) and every route of every table.")

    @OptionGroup var host: SimHostOptions

    func run() async throws {
        let kernel = try await SimHostFile.load(path: host.simState).boot()
        let state = try await FidelityState.read(kernel, in: host.scope, sysctls: [])
        for line in state.lines { print(line) }
    }
}
