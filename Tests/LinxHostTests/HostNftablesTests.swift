import Foundation
import LinxHost
import LinxKernelSim
import LinxReconcile
import Testing

/// The host document's `nftables` section: read with lines, printed back,
/// planned with every other section, refusals placed on their lines.
@Suite("host document: nftables section")
struct HostNftablesTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/examples/firewall.yaml").path

    static let small = """
        nftables:
          tables:
            inet linx:
              chains:
                input:
                  hook: input
                  policy: drop
                  rules:
                    - tcp dport {443,22} accept
                    - tcp dport frob accept
        """

    @Test("the example reads with its tables, chains, sets and an absent table")
    func readsExample() throws {
        let document = try HostDocument.load(path: Self.example)
        let section = try #require(document.nftables)
        #expect(section.options == .default)
        #expect(section.tables.map(\.ref) == [NftTableRef(.inet, "linx"), NftTableRef(.ip, "legacy")])
        let linx = try #require(section.tables[0].desired)
        #expect(linx.chains.map(\.name) == ["input", "forward", "audit"])
        #expect(linx.chains[0].base == NftBaseChain(type: .filter, hook: .input, priority: 0, policy: .drop))
        #expect(linx.chains[2].base == nil && linx.chains[2].rules == ["ip saddr 10.0.0.0/8 counter drop", "return"])
        #expect(linx.sets == [NftSet("admins", type: "ipv4_addr", flags: ["interval"], elements: ["192.0.2.0/28", "198.51.100.7"])])
        #expect(section.tables[1].desired == nil)
        #expect(document.sectionNames == ["nftables"])
    }

    @Test("printed as YAML or JSON, the section reads back to an equal document", arguments: HostDocument.Format.allCases)
    func roundTrips(_ format: HostDocument.Format) throws {
        var document = try HostDocument.load(path: Self.example)
        document.nftables?.options = NftablesOptions(marker: "agent-7", lifetime: .owned, maxRetries: 5)
        document.nftables?.tables.append(.init(ref: NftTableRef(.ip6, "empty"), desired: NftTable()))
        let text = format == .yaml ? document.yaml : document.json
        let back = try HostDocument.parse(text, format: format)
        #expect(back == document, "\(text)")
        #expect(back.nftables?.options.lifetime == .owned)
    }

    @Test("structural mistakes name the file, the line and the entry", arguments: [
        ("nftables:\n  tables:\n    linx: {}\n", 3, "nftables.tables.linx", "family and name"),
        ("nftables:\n  lifetime: forever\n", 2, "nftables.lifetime", "expected one of persistent, owned, ownedPersistent"),
        ("nftables:\n  tables:\n    inet t:\n      chains:\n        web:\n          policy: drop\n", 6, "nftables.tables.\"inet t\".chains.web.policy", "needs a \"hook\""),
        ("nftables:\n  tables:\n    inet t:\n      chains:\n        c:\n          hook: sideways\n", 6, "nftables.tables.\"inet t\".chains.c.hook", "expected one of prerouting"),
        ("nftables:\n  tables:\n    inet t:\n      sets:\n        s:\n          elements: [1]\n", 5, "nftables.tables.\"inet t\".sets.s", "missing \"type\""),
        ("nftables:\n  tables:\n    inet t:\n      chains:\n        c:\n          rulez: []\n", 6, "nftables.tables.\"inet t\".chains.c", "unknown key \"rulez\""),
        ("nftables:\n  tables:\n    inet t: gone\n", 3, "nftables.tables.\"inet t\"", "or absent"),
    ])
    func structuralErrors(_ yaml: String, line: Int, path: String, reason: String) throws {
        let error = try #require(throws: HostDocumentError.self) { try HostDocument.parse(yaml, format: .yaml, file: "fw.yaml") }
        #expect(error.line == line && error.path.description == path && error.reason.contains(reason), "\(error)")
        #expect(error.description.hasPrefix("fw.yaml:\(line): "))
    }

    @Test("a rule the kernel refuses names its line and entry, and nothing in the document is applied")
    func refusedRuleOnItsLine() async throws {
        let kernel = SimKernel(seed: 1)
        try kernel.addLink("eth0")
        let yaml = "sysctl:\n  keys:\n    net.ipv4.ip_forward: 1\n" + Self.small
        let document = try HostDocument.parse(yaml, format: .yaml, file: "fw.yaml")
        let reconciler = HostReconciler(backend: kernel, scope: .current)
        let error = try await #require(throws: HostDocumentError.self) { _ = try await reconciler.plan(document, lastApplied: .empty) }
        #expect(error.line == 13 && error.path.description == "nftables.tables.\"inet linx\".chains.input.rules[1]", "\(error)")
        #expect(error.reason.contains("EINVAL"), "\(error)")
        #expect(kernel.nftTables().isEmpty)
        #expect(kernel.sysctlValue("net.ipv4.ip_forward") == "0")
    }

    @Test("one-call reconcile of a new table with a refused rule: nothing in any section applied, the rule's line named as by plan")
    func oneCallRefusalChangesNothing() async throws {
        let kernel = SimKernel(seed: 1)
        try kernel.addLink("eth0")
        let yaml = "rtnl:\n  addresses:\n    - { interface: eth0, address: 10.9.0.2/24 }\nsysctl:\n  keys:\n    net.ipv4.ip_forward: 1\n" + Self.small
        let document = try HostDocument.parse(yaml, format: .yaml, file: "fw.yaml")
        let reconciler = HostReconciler(backend: kernel, scope: .current)
        let before = try kernel.snapshot()
        let error = try await #require(throws: HostDocumentError.self) { _ = try await reconciler.reconcile(document, lastApplied: .empty) }
        #expect(error.line == 16 && error.path.description == "nftables.tables.\"inet linx\".chains.input.rules[1]", "\(error)")
        #expect(error.reason.contains("EINVAL"), "\(error)")
        let planned = try await #require(throws: HostDocumentError.self) { _ = try await reconciler.plan(document, lastApplied: .empty) }
        #expect(planned.line == error.line && planned.path == error.path)
        #expect(try kernel.snapshot() == before)
        #expect(kernel.nftTables().isEmpty && kernel.sysctlValue("net.ipv4.ip_forward") == "0")
        #expect(try await kernel.addresses(in: .current).allSatisfy { $0.address.description != "10.9.0.2" })

        // Valid, the same call applies every section and reports it.
        let valid = try HostDocument.parse(yaml.replacingOccurrences(of: "frob", with: "8080"), format: .yaml, file: "fw.yaml")
        let report = try await reconciler.reconcile(valid, lastApplied: .empty)
        #expect(report.converged && report.nftables.first?.report.applied.count == 4, "\(report.nftables)")
        #expect(report.lastApplied.nftables["inet linx"] == NftLastApplied(ownsTable: true) && report.rtnl?.applied.count == 1)
        #expect(kernel.sysctlValue("net.ipv4.ip_forward") == "1" && kernel.nftTable(NftTableRef(.inet, "linx")) != nil)
        let again = try await reconciler.plan(valid, lastApplied: report.lastApplied)
        #expect(again.changeCount == 0, "\(again.nftables.map(\.plan.ops))")
    }

    @Test("applied with the other sections; a second plan is empty; the absent table of someone else survives; ownership is kept")
    func appliesAndConverges() async throws {
        let kernel = SimKernel(seed: 1)
        try kernel.addLink("eth0")
        try kernel.addLink("eth1")
        // Someone else's `ip legacy`: absent in the document, but not linx's to delete.
        try kernel.nftSocket().commit([.addTable(NftTableRef(.ip, "legacy"), flags: [], comment: nil)])
        let document = try HostDocument.load(path: Self.example)
        let reconciler = HostReconciler(backend: kernel, scope: .current)
        let plan = try await reconciler.plan(document, lastApplied: .empty)
        #expect(plan.nftables.map(\.table) == [NftTableRef(.inet, "linx"), NftTableRef(.ip, "legacy")])
        #expect(plan.nftables[1].plan.ops.isEmpty)
        let report = await plan.apply()
        #expect(report.converged, "\(report.nftables)")
        #expect(report.lastApplied.nftables["inet linx"] == NftLastApplied(ownsTable: true))
        #expect(report.lastApplied.nftables["ip legacy"] == NftLastApplied(ownsTable: false))
        #expect(kernel.nftTable(NftTableRef(.inet, "linx"))?.chains.first?.rules.first?.text == "ct state established,related accept")
        #expect(kernel.nftTable(NftTableRef(.ip, "legacy")) != nil)
        let again = try await reconciler.plan(document, lastApplied: report.lastApplied)
        #expect(again.changeCount == 0, "\(again.nftables.map(\.plan.ops))")

        let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [[String: Any]]
        #expect(encoded?.first?["section"] as? String == "nftables" && encoded?.first?["table"] as? String == "inet linx")
        // An ownership record written before the section existed reads as owning no table.
        let record = try JSONEncoder().encode(report.lastApplied)
        #expect(try JSONDecoder().decode(HostLastApplied.self, from: record) == report.lastApplied)
        var old = try #require(try JSONSerialization.jsonObject(with: record) as? [String: Any])
        #expect(old.removeValue(forKey: "nftables") != nil)
        let decoded = try JSONDecoder().decode(HostLastApplied.self, from: JSONSerialization.data(withJSONObject: old))
        #expect(decoded.nftables.isEmpty && decoded.rtnl == report.lastApplied.rtnl)
    }
}
