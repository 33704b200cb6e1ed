import LinxReconcile

/// A namespace's rtnetlink state in a form both kernels print alike: links
/// by name, each link's addresses in dump order (which says which IPv4
/// address is a subnet's primary), every route of every table with its
/// type, scope, protocol, prefsrc and metric, and the sysctls asked for.
///
/// Link-local addresses the kernel derives from a link's (random) MAC
/// print as `LL`; everything else prints as the dump gave it.
public struct FidelityState: Sendable, Hashable {
    /// `NAME up|down mtu N`, by name.
    public var links: [String]
    /// `NAME inet|inet6 ADDR/LEN`, per link in dump order, links by name.
    public var addresses: [String]
    /// One line a route, sorted (the kernel's route dump order is its
    /// trie's, which the simulator does not model).
    public var routes: [String]
    /// Key -> value (or `!ERRNO` when it could not be read).
    public var sysctls: [String: String]

    /// Reads the state through the backend protocols.
    public static func read(
        _ backend: some RtnlBackend & SysctlBackend, in scope: NetnsScope, sysctls keys: [SysctlKey]
    ) async throws(KernelError) -> FidelityState {
        let links = try await retryingInterruptedDumps { () async throws(KernelError) in try await backend.links(in: scope) }
        let addresses = try await retryingInterruptedDumps { () async throws(KernelError) in try await backend.addresses(in: scope) }
        let routes = try await retryingInterruptedDumps { () async throws(KernelError) in
            try await backend.routes(in: scope, matching: .all)
        }
        let names = Dictionary(links.map { ($0.index, $0.name) }, uniquingKeysWith: { a, _ in a })
        func name(_ index: Int32?) -> String { index.map { names[$0] ?? "#\($0)" } ?? "-" }
        var byLink: [String: [String]] = [:]
        for address in addresses {
            let family = address.family == .ipv4 ? "inet" : "inet6"
            byLink[name(address.ifindex), default: []].append(
                "\(name(address.ifindex)) \(family) \(Self.text(address.address))/\(address.prefixLength)")
        }
        var values: [String: String] = [:]
        for key in keys {
            do throws(KernelError) {
                values[key.description] = try await backend.read(key, in: scope)
            } catch {
                values[key.description] = "!" + error.errno.symbolicName
            }
        }
        return FidelityState(
            links: links.map { "\($0.name) \($0.isUp ? "up" : "down") mtu \($0.mtu)" }.sorted(),
            addresses: byLink.keys.sorted().flatMap { byLink[$0]! },
            routes: routes.map { route in
                var line = "\(route.type) \(Self.text(route.destination)) table \(route.table) proto \(route.proto)"
                line += " scope \(route.scope) metric \(route.metric)"
                if let gateway = route.gateway { line += " via \(Self.text(gateway))" }
                line += " dev \(name(route.ifindex))"
                if let source = route.prefsrc { line += " src \(Self.text(source))" }
                return line
            }.sorted(),
            sysctls: values)
    }

    /// The lines of this state, each tagged with its section.
    public var lines: [String] {
        links.map { "link " + $0 } + addresses.map { "addr " + $0 } + routes.map { "route " + $0 }
            + sysctls.keys.sorted().map { "sysctl \($0) = \(sysctls[$0]!.debugDescription)" }
    }

    /// What differs: lines only here, lines only in `other`, and the
    /// address order when both hold the same addresses in another order.
    public func difference(from other: FidelityState) -> (onlyHere: [String], onlyThere: [String]) {
        let mine = lines, theirs = other.lines
        let theirSet = Set(theirs), mySet = Set(mine)
        var here = mine.filter { !theirSet.contains($0) }
        var there = theirs.filter { !mySet.contains($0) }
        if here.isEmpty && there.isEmpty && addresses != other.addresses {
            here = ["address order: " + addresses.joined(separator: ", ")]
            there = ["address order: " + other.addresses.joined(separator: ", ")]
        }
        return (here, there)
    }

    /// A MAC-derived link-local address prints as `LL`; fe80::1 (a gateway
    /// the generator uses) and fe80:: (the subnet-router anycast) stay.
    static func text(_ address: IPAddress) -> String {
        guard address.isIPv6LinkLocal, case .v6(_, let low) = address, low > 1 else { return "\(address)" }
        return "LL"
    }

    static func text(_ prefix: IPPrefix) -> String {
        prefix.length == prefix.family.bitWidth ? text(prefix.address) : "\(prefix)"
    }
}
