import Foundation
import LinxHost
import LinxKernelSim
import LinxReconcile
import Testing

/// The host composite on the simulated kernel: every section planned before
/// any is applied, absent kinds left alone, refusals placed on their lines.
@Suite("host reconciler")
struct HostReconcilerTests {
    func host() throws -> SimKernel {
        let kernel = SimKernel(seed: 1)
        try kernel.addLink("eth0")
        try kernel.addLink("eth1")
        try kernel.createCgroup("/sys/fs/cgroup/web")
        return kernel
    }

    func document(_ yaml: String) throws -> HostDocument {
        try HostDocument.parse(yaml, format: .yaml, file: "host.yaml")
    }

    static let full = """
        rtnl:
          addresses:
            - { interface: eth0, address: 10.0.0.2/24 }
          routes:
            - { destination: 10.50.0.0/24, gateway: 10.0.0.1 }
            - { destination: 10.51.0.0/24, gateway: 10.0.0.1 }
        """

    @Test("an rtnl section with addresses but no routes key deletes no owned route; routes: [] deletes them")
    func absentRoutesAreNotManaged() async throws {
        let kernel = try host()
        let reconciler = HostReconciler(backend: kernel, scope: .current)
        let first = try await reconciler.reconcile(try document(Self.full), lastApplied: .empty)
        #expect(first.converged && kernel.routeCount() > 0)
        let ours = try kernel.snapshot().routes.filter { $0.proto == RouteProtocol.linx }.count
        #expect(ours == 2)

        let addressesOnly = try document("rtnl:\n  addresses:\n    - { interface: eth0, address: 10.0.0.2/24 }\n")
        let plan = try await reconciler.plan(addressesOnly, lastApplied: first.lastApplied)
        #expect(plan.rtnl?.managed == .addresses)
        #expect(plan.changeCount == 0, "\(plan.rtnl?.ops ?? [])")
        let second = await plan.apply()
        #expect(second.converged)
        #expect(try kernel.snapshot().routes.filter { $0.proto == RouteProtocol.linx }.count == 2)
        #expect(second.lastApplied.rtnl == first.lastApplied.rtnl)

        // Not managing addresses keeps the owned address too.
        let routesOnly = try await reconciler.plan(try document("rtnl:\n  routes:\n    - { destination: 10.50.0.0/24, gateway: 10.0.0.1 }\n"), lastApplied: first.lastApplied)
        #expect(routesOnly.rtnl?.ops.map(\.symbol) == ["-"])
        #expect(routesOnly.rtnl?.managed == .routes)

        let emptied = try await reconciler.reconcile(
            try document("rtnl:\n  addresses:\n    - { interface: eth0, address: 10.0.0.2/24 }\n  routes: []\n"),
            lastApplied: first.lastApplied)
        #expect(emptied.converged && emptied.rtnl?.applied.count == 2)
        #expect(try kernel.snapshot().routes.filter { $0.proto == RouteProtocol.linx }.isEmpty)
    }

    @Test("a section absent from the document keeps its ownership and objects")
    func absentSectionKeepsOwnership() async throws {
        let kernel = try host()
        let reconciler = HostReconciler(backend: kernel, scope: .current)
        let first = try await reconciler.reconcile(
            try document(Self.full + "\nsysctl:\n  keys:\n    net.ipv4.ip_forward: 1\n"), lastApplied: .empty)
        #expect(first.converged && kernel.sysctlValue("net.ipv4.ip_forward") == "1")
        let second = try await reconciler.reconcile(try document(Self.full), lastApplied: first.lastApplied)
        #expect(second.sysctl == nil && second.lastApplied.sysctl == first.lastApplied.sysctl)
        #expect(kernel.sysctlValue("net.ipv4.ip_forward") == "1")
    }

    @Test("an invalid entry in the last section changes nothing in the first")
    func plansAllBeforeApplyingAny() async throws {
        let kernel = try host()
        let before = try kernel.snapshot()
        let reconciler = HostReconciler(backend: kernel, scope: .current)
        await #expect(throws: HostDocumentError.self) {
            try await reconciler.reconcile(
                try document(Self.full + "\ncgroups:\n  /sys/fs/cgroup/web:\n    ../escape: 1\n"), lastApplied: .empty)
        }
        #expect(try kernel.snapshot() == before)
    }

    /// Every kind of entry a reconciler refuses, with the line it is on and
    /// the path the error names.
    @Test("a refused entry names its file line, whatever its kind", arguments: [
        ("sysctl:\n  keys:\n    net.ipv4.ip_forward: 1\n    net/ipv4/no_such_key: 1\n", 4, "sysctl.keys.\"net/ipv4/no_such_key\""),
        ("sysctl:\n  keys:\n    net.ipv4.ip_forward: 1\n    net.ipv4.no_such_key: 1\n", 4, "sysctl.keys.\"net.ipv4.no_such_key\""),
        ("sysctl:\n  keys:\n    net.ipv4.ip_forward: 1\n    net/ipv4/../../x: 1\n", 4, "sysctl.keys.\"net/ipv4/../../x\""),
        ("sysctl:\n  keys:\n    net.ipv4.ip_forward: 1\n    net/ipv4/ip_forward: 0\n", 4, "sysctl.keys.\"net/ipv4/ip_forward\""),
        ("rtnl:\n  addresses:\n    - { interface: eth0, address: 10.0.0.2/24 }\n    - { interface: eth9, address: 10.0.0.3/24 }\n",
         4, "rtnl.addresses[1]"),
        ("rtnl:\n  addresses:\n    - { interface: eth0, address: \"\" }\n", 3, "rtnl.addresses[0]"),
        ("rtnl:\n  routes:\n    - { destination: default, gateway: 10.0.0.1 }\n\n    - { destination: 10.9.0.1/24, gateway: 10.0.0.1 }\n",
         5, "rtnl.routes[1]"),
        ("rtnl:\n  routes:\n    - { destination: 10.9.0.0/24 }\n", 3, "rtnl.routes[0]"),
        ("rtnl:\n  addresses: []\n  protocol: 2\n", 3, "rtnl.protocol"),
        ("rtnl:\n  addressProtocol: 0\n  addresses: []\n", 2, "rtnl.addressProtocol"),
        ("cgroups:\n  /sys/fs/cgroup/web:\n    memory.max: 1\n    bad/file: 1\n", 4, "cgroups.\"/sys/fs/cgroup/web\".\"bad/file\""),
        ("cgroups:\n  /sys/fs/cgroup/web:\n    memory.max: 1\n  relative/cgroup:\n    memory.max: 1\n", 4, "cgroups.\"relative/cgroup\""),
        ("cgroups:\n  /sys/fs/cgroup/web:\n    memory.max: 1\n    no.such.file: 1\n", 4, "cgroups.\"/sys/fs/cgroup/web\".\"no.such.file\""),
    ])
    func refusalsNameTheirLine(_ yaml: String, line: Int, path: String) async throws {
        let kernel = try host()
        let document = try document(yaml)
        do {
            _ = try await HostReconciler(backend: kernel, scope: .current).plan(document, lastApplied: .empty)
            Issue.record("planned: \(yaml)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.description.hasPrefix("host.yaml:\(line): \(path): "), "\(error)")
        }
    }

    @Test("a host-wide sysctl from another namespace is refused on its line")
    func hostWideKeyLine() async throws {
        let kernel = try host()
        try kernel.createNamespace(.path("/run/netns/web"))
        let document = try document("sysctl:\n  keys:\n    net.ipv4.ip_forward: 1\n    kernel/domainname: x\n")
        do {
            _ = try await HostReconciler(backend: kernel, scope: .path("/run/netns/web")).plan(document, lastApplied: .empty)
            Issue.record("planned")
        } catch {
            #expect(error.line == 4 && error.path == ["sysctl", "keys", "kernel/domainname"], "\(error)")
        }
    }

    @Test("plans and reports encode as JSON, with the kinds a section manages")
    func encodable() async throws {
        let kernel = try host()
        let plan = try await HostReconciler(backend: kernel, scope: .current)
            .plan(try document("rtnl:\n  addresses:\n    - { interface: eth0, address: 10.0.0.2/24 }\n"), lastApplied: .empty)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let planJSON = String(decoding: try encoder.encode(plan), as: UTF8.self)
        #expect(planJSON.contains(#""manages":["addresses"]"#), "\(planJSON)")
        #expect(planJSON.contains(#""op":"create""#), "\(planJSON)")
        let report = await plan.apply()
        let reportJSON = String(decoding: try encoder.encode(report), as: UTF8.self)
        #expect(reportJSON.contains(#""converged":true"#) && reportJSON.contains(#""strategy":"staged""#), "\(reportJSON)")
        #expect(reportJSON.contains(#""lastApplied":{"addresses":["#), "\(reportJSON)")
    }
}
