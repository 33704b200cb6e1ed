import LinxKernelSim
import LinxReconcile

/// Someone other than the Source, reading and changing a namespace's
/// addresses and routes: what the rtnl subjects use to make foreign state
/// and drift, on the simulated kernel (its foreign writer) or a real one
/// (raw requests through the backend, as another agent would send them).
package struct RtnlForeignWriter: Sendable {
    /// The namespace's links, addresses and routes.
    let dump: @Sendable () async throws -> (links: [Link], addresses: [InterfaceAddress], routes: [Route])
    /// ``dump`` in any order, for readers that key what they read (the
    /// simulator's is cheaper unsorted).
    let unorderedDump: @Sendable () async throws -> (links: [Link], addresses: [InterfaceAddress], routes: [Route])
    /// Sends one request; true when the kernel accepted it.
    let write: @Sendable (RtnlRequest) async -> Bool
    /// True when ``dump`` is ``unorderedDump`` with the routes sorted by key,
    /// then device (the simulator's): drift then sorts only the routes it
    /// picks from.
    let dumpSortsUnordered: Bool

    public init(
        dump: @escaping @Sendable () async throws -> (links: [Link], addresses: [InterfaceAddress], routes: [Route]),
        write: @escaping @Sendable (RtnlRequest) async -> Bool
    ) {
        self.init(dump: dump, unorderedDump: dump, dumpSortsUnordered: false, write: write)
    }

    init(
        dump: @escaping @Sendable () async throws -> (links: [Link], addresses: [InterfaceAddress], routes: [Route]),
        unorderedDump: @escaping @Sendable () async throws -> (links: [Link], addresses: [InterfaceAddress], routes: [Route]),
        dumpSortsUnordered: Bool, write: @escaping @Sendable (RtnlRequest) async -> Bool
    ) {
        self.dump = dump
        self.unorderedDump = unorderedDump
        self.dumpSortsUnordered = dumpSortsUnordered
        self.write = write
    }

    /// The simulated kernel's foreign writer, for a sim sandbox.
    public init(_ sandbox: SimSandbox<NetnsScope>) {
        let kernel = sandbox.kernel
        let scope = sandbox.scope
        self.init(
            dump: {
                let snapshot = try kernel.snapshot(of: scope)
                return (snapshot.links, snapshot.addresses, snapshot.routes)
            },
            unorderedDump: {
                let snapshot = try kernel.unsortedSnapshot(of: scope)
                return (snapshot.links, snapshot.addresses, snapshot.routes)
            },
            dumpSortsUnordered: true,
            write: { request in
                if case .success = kernel.foreign.execute([request], in: scope).first { return true }
                return false
            })
    }

    /// The snapshot entries of the namespace now.
    public func entries() async throws -> [RtnlEntry: RtnlValue] {
        // Keyed below, so any order gives the same entries (only kernel
        // routes share a key, and those are left out).
        let (links, addresses, routes) = try await unorderedDump()
        var entries: [RtnlEntry: RtnlValue] = [:]
        entries.reserveCapacity(addresses.count + routes.count)
        RtnlSimSubject.add(links: links, addresses: addresses, routes: routes, host: false, to: &entries)
        return entries
    }

    /// Makes foreign state (see ``RtnlStateModel/foreignSteps(links:index:using:)``)
    /// and returns the entries it made, as the kernel now shows them.
    public func makeForeignState(links: [String], using random: inout SimRandom) async throws -> [RtnlEntry: RtnlValue] {
        let current = try await unorderedDump().links
        var keys = Set<RtnlEntry>()
        for _ in 0..<random.int(in: 1...3) {
            let steps = RtnlStateModel.foreignSteps(
                links: links, index: { name in current.first { $0.name == name }?.index }, using: &random)
            for step in steps {
                switch step {
                case .address(let address):
                    guard await write(.addAddress(address)),
                        let name = current.first(where: { $0.index == address.ifindex })?.name
                    else { continue }
                    keys.insert(.address(host: false, interface: name, address: address.address, prefixLength: address.prefixLength))
                case .route(let route):
                    guard await write(.addRoute(route)) else { continue }
                    keys.insert(.route(host: false, key: route.key))
                }
            }
        }
        let now = try await entries()
        return now.filter { keys.contains($0.key) }
    }

    /// Disturbs a converged namespace: deletes or moves one of the Source's
    /// routes, deletes one of its addresses (and so the routes through it),
    /// or adds foreign state.
    public func drift(desired: RtnlDesiredState, links: [String], using random: inout SimRandom)
        async throws -> Drift<RtnlEntry, RtnlValue>
    {
        let addresses: [InterfaceAddress]
        let ours: [Route]
        if dumpSortsUnordered {
            // The routes the sorted dump lists, in its order, without sorting
            // the others: Linx's routes each have a key of their own.
            let (_, found, routes) = try await unorderedDump()
            addresses = found
            ours = routes.filter { $0.proto == RouteProtocol.linx }
                .sorted { ($0.key, $0.ifindex ?? 0) < ($1.key, $1.ifindex ?? 0) }
        } else {
            let (_, found, routes) = try await dump()
            addresses = found
            ours = routes.filter { $0.proto == RouteProtocol.linx }
        }
        let owned = RtnlStateModel.addressKeys(of: desired)
        let ourAddresses = addresses.filter { address in
            owned.contains { $0.address == address.address && $0.prefixLength == address.prefixLength }
        }
        var labels: [String] = []
        var added: [RtnlEntry: RtnlValue] = [:]
        for _ in 0..<random.int(in: 1...2) {
            switch random.below(4) {
            case 0 where !ours.isEmpty:
                let route = random.pick(ours)
                _ = await write(.deleteRoute(route))
                labels.append("deleted \(route)")
            case 1 where ours.contains { $0.gateway?.family == .ipv4 }:
                var route = random.pick(ours.filter { $0.gateway?.family == .ipv4 })
                if case .v4(let gateway)? = route.gateway {
                    route.gateway = .v4((gateway & 0xFFFF_FF00) | 0xFD)
                    _ = await write(.replaceRoute(route))
                    labels.append("moved \(route.destination) to gateway \(route.gateway.map { "\($0)" } ?? "-")")
                }
            case 2 where !ourAddresses.isEmpty:
                let address = random.pick(ourAddresses)
                _ = await write(.deleteAddress(address))
                labels.append("deleted address \(address.address)/\(address.prefixLength) (and the routes through it)")
            default:
                let made = try await makeForeignState(links: links, using: &random)
                added.merge(made) { _, new in new }
                labels.append("added \(made.count) foreign objects")
            }
        }
        return Drift(labels.joined(separator: "; "), addedForeign: added)
    }
}
