@testable import LinxConformance
import LinxKernelSim
import LinxReconcile
import Testing

/// The rtnl sim subject's shortcuts against the paths they replaced.
@Suite("rtnl sim subject: fast paths")
struct SimSubjectFastPathTests {
    @Test("drift on the simulator picks, changes and reports what it did from the whole sorted dump")
    func driftPicksAsFromTheSortedDump() async throws {
        let subject = RtnlSimSubject()
        var moved = 0
        var scrambled = 0
        for seed in 1...30 as ClosedRange<UInt64> {
            var outcomes: [[String]] = []
            for sortsWhole in [true, false] {
                let sandbox = try await subject.makeSandbox(seed: seed)
                var random = SimRandom(seed: seed)
                let desired = subject.validDesired(in: sandbox, using: &random)
                _ = try? await subject.source(for: sandbox).reconcile(
                    scope: sandbox.scope, desired: desired, lastApplied: .empty, options: .default)
                // Every third route deleted and put back in the same order: the store reuses the
                // last freed slot first, so its order is no longer the key order, as after a fuzz pass.
                let linx = try sandbox.kernel.snapshot(of: sandbox.scope).routes.filter { $0.proto == RouteProtocol.linx }
                let shuffled = linx.enumerated().filter { $0.offset % 3 == 0 }.map(\.element)
                _ = sandbox.kernel.foreign.execute(shuffled.map { .deleteRoute($0) }, in: sandbox.scope)
                _ = sandbox.kernel.foreign.execute(shuffled.map { .addRoute($0) }, in: sandbox.scope)
                let stored = try sandbox.kernel.unsortedSnapshot(of: sandbox.scope).routes.filter { $0.proto == RouteProtocol.linx }
                if stored.map(\.key) != linx.map(\.key) { scrambled += 1 }
                let sim = RtnlForeignWriter(sandbox)
                // The path before: the sorted dump of every route, then Linx's routes filtered out of it.
                let writer = sortsWhole
                    ? RtnlForeignWriter(dump: sim.dump, unorderedDump: sim.unorderedDump, dumpSortsUnordered: false, write: sim.write)
                    : sim
                var lines: [String] = []
                for _ in 0..<4 {
                    let drift = try await writer.drift(desired: desired, links: RtnlSimSubject.links, using: &random)
                    lines.append(drift.label)
                    lines.append(drift.addedForeign.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ","))
                }
                lines.append(try await sim.entries().map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ","))
                outcomes.append(lines)
            }
            #expect(outcomes[0] == outcomes[1], "seed \(seed)")
            moved += outcomes[0].filter { $0.hasPrefix("deleted route") || $0.hasPrefix("moved") }.count
        }
        #expect(moved > 10, "the drifts picked routes")
        #expect(scrambled >= 10, "the store's order was not the key order")
    }

    @Test("snapshot entries name each address's link as a map of the links would")
    func addressNamesAsAMap() {
        for count in [1, 3, 8, 9, 20] {
            let links = (0..<count).map { Link(index: Int32(2 + $0 * 3), name: "l\($0)", kind: "veth", isUp: true, mtu: 1500) }
            let addresses = (0..<40).map { i in
                InterfaceAddress(ifindex: Int32(1 + i % (count * 3 + 2)), address: .v4(0x0A00_0000 | UInt32(i)), prefixLength: 24)
            }
            var entries: [RtnlEntry: RtnlValue] = [:]
            RtnlSimSubject.add(links: links, addresses: addresses, routes: [], host: false, to: &entries)
            var names: [Int32: String] = [:]
            for link in links { names[link.index] = link.name }
            let expected = Set(addresses.map {
                RtnlEntry.address(host: false, interface: names[$0.ifindex] ?? "#\($0.ifindex)", address: $0.address, prefixLength: 24)
            })
            #expect(Set(entries.keys) == expected, "\(count) links")
        }
    }
}
