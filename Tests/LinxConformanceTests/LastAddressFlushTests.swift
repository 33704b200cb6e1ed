@testable import LinxConformance
import LinxKernelSim
import LinxReconcile
import Testing

/// When a link loses its last IPv4 address the kernel flushes every IPv4
/// route out through it (fib_disable_ip; the simulator models it after
/// Linux 6.18). The audit must take those routes as the delete's doing, and
/// only those: fresh-seed campaign 589758056 found a same-subnet primary
/// swap on a link's only address convicted of 290 routes it "never touched".
@Suite("rtnl audit: the last IPv4 address's flush")
struct LastAddressFlushTests {
    let subject = RtnlSimSubject()

    /// eth1 holds 10.77.1.5/24 and 10.77.2.5/24, eth0 10.66.0.5/24; a route
    /// through each eth1 subnet (one in table 100) and one through eth0.
    func makeScope() async throws -> (sandbox: RtnlSimSubject.Sandbox, eth0: Int32, eth1: Int32, routes: [String: Route]) {
        let sandbox = try await subject.makeSandbox(seed: 5)
        let eth0 = try #require(sandbox.kernel.ifindex(of: "eth0", in: sandbox.scope))
        let eth1 = try #require(sandbox.kernel.ifindex(of: "eth1", in: sandbox.scope))
        for (index, text) in [(eth1, "10.77.1.5"), (eth1, "10.77.2.5"), (eth0, "10.66.0.5")] {
            try sandbox.kernel.foreign.addAddress(
                InterfaceAddress(ifindex: index, address: try IPAddress(text), prefixLength: 24), in: sandbox.scope)
        }
        let routes = [
            "first": Route(destination: try IPPrefix("10.88.1.0/24"), gateway: try IPAddress("10.77.1.1"), ifindex: eth1),
            "second": Route(
                destination: try IPPrefix("10.88.2.0/24"), gateway: try IPAddress("10.77.2.1"), ifindex: eth1, table: 100),
            "other": Route(destination: try IPPrefix("10.88.3.0/24"), gateway: try IPAddress("10.66.0.1"), ifindex: eth0),
        ]
        for route in routes.values { try sandbox.kernel.foreign.addRoute(route, in: sandbox.scope) }
        return (sandbox, eth0, eth1, routes)
    }

    func deleting(_ text: String, on index: Int32) throws -> ReconcileOp<RtnlObject> {
        .delete(.address(InterfaceAddress(ifindex: index, address: try IPAddress(text), prefixLength: 24, interfaceName: "eth1")))
    }

    func entry(_ route: Route) -> RtnlEntry { .route(host: false, key: route.key) }

    func delete(_ op: ReconcileOp<RtnlObject>, in sandbox: RtnlSimSubject.Sandbox) throws {
        guard case .delete(.address(let address)) = op else { return }
        _ = sandbox.kernel.foreign.execute([.deleteAddress(address)], in: sandbox.scope)
    }

    @Test("deleting the link's last IPv4 address explains every IPv4 route through it, and the simulator flushes exactly those")
    func lastAddress() async throws {
        let (sandbox, _, eth1, routes) = try await makeScope()
        try delete(try deleting("10.77.2.5", on: eth1), in: sandbox)
        let before = try await subject.snapshot(of: sandbox)
        let last = try deleting("10.77.1.5", on: eth1)
        try delete(last, in: sandbox)
        let after = try await subject.snapshot(of: sandbox)
        let explained = subject.sideEffects(of: last, before: before, in: sandbox)
        #expect(explained.contains(entry(routes["first"]!)) && explained.contains(entry(routes["second"]!)))
        #expect(!explained.contains(entry(routes["other"]!)))
        // The model follows the simulator: every route that went is explained.
        let gone = before.changedKeys(to: after).filter { if case .route = $0 { true } else { false } }
        #expect(gone == [entry(routes["first"]!), entry(routes["second"]!)])
        #expect(gone.isSubset(of: explained))
    }

    @Test("while another subnet's address stays on the link, only the deleted subnet's gateway routes are explained")
    func notTheLast() async throws {
        let (sandbox, _, eth1, routes) = try await makeScope()
        let before = try await subject.snapshot(of: sandbox)
        let op = try deleting("10.77.2.5", on: eth1)
        try delete(op, in: sandbox)
        let explained = subject.sideEffects(of: op, before: before, in: sandbox)
        #expect(explained.contains(entry(routes["second"]!)))
        #expect(!explained.contains(entry(routes["first"]!)) && !explained.contains(entry(routes["other"]!)))
        // And the kernel really kept the gateway route whose subnet went.
        #expect(try await subject.snapshot(of: sandbox)[entry(routes["second"]!)] != nil)
    }

    @Test("an address the same pass deleted first does not keep the link's IPv4 alive")
    func earlierOpOfThePass() async throws {
        let (sandbox, _, eth1, routes) = try await makeScope()
        let before = try await subject.snapshot(of: sandbox)
        let first = try deleting("10.77.2.5", on: eth1), last = try deleting("10.77.1.5", on: eth1)
        try delete(first, in: sandbox)
        try delete(last, in: sandbox)
        let explained = subject.sideEffects(of: last, before: before, in: sandbox)
        #expect(explained.contains(entry(routes["first"]!)) && explained.contains(entry(routes["second"]!)))
        #expect(!explained.contains(entry(routes["other"]!)))
    }

    @Test("the campaign's failing scenario replays clean")
    func campaignScenario() async throws {
        let scenario = try FuzzScenario(
            parsing: "seed=9378074723156979311,passes=21,changes=2,drifts=3,reboots=0,rate=10,kinds=errno+batchRefusal")
        let run = await FuzzRunner.run(subject, scenario: scenario, maxPasses: 5)
        #expect(run.failure == nil, "\(run.failure.map { "\($0)" } ?? "")")
    }
}
