import Foundation
import LinxHost
import LinxReconcile
import Testing

/// The document format: one set of types, read from YAML or JSON with the
/// line of every entry, printed back to an equal document.
@Suite("host document: reading and printing")
struct HostDocumentParsingTests {
    static let yaml = """
        # a comment
        rtnl:
          protocol: 77
          addresses:
            - { interface: eth0, address: 10.0.0.2/24 }
            - interface: eth1
              address: "fc00::2/64"
          routes:
            - { destination: default, gateway: 10.0.0.1 }
            - { destination: 10.60.0.0/24, gateway: 10.0.0.1, table: 100, metric: 50 }
        sysctl:
          revertOnRelease: true
          keys:
            net.ipv4.ip_forward: 1
            net/ipv4/ip_local_port_range: "32768 60999"
        cgroups:
          /sys/fs/cgroup/web:
            memory.max: 268435456
            cpu.max: { quota: 50000, period: 100000 }
            pids.max: max

        """

    static let json = """
        {
          "rtnl": {
            "protocol": 77,
            "addresses": [
              {"interface": "eth0", "address": "10.0.0.2/24"},
              {"interface": "eth1", "address": "fc00::2/64"}
            ],
            "routes": [
              {"destination": "default", "gateway": "10.0.0.1"},
              {"destination": "10.60.0.0/24", "gateway": "10.0.0.1", "table": 100, "metric": 50}
            ]
          },
          "sysctl": {
            "revertOnRelease": true,
            "keys": {"net.ipv4.ip_forward": 1, "net/ipv4/ip_local_port_range": "32768 60999"}
          },
          "cgroups": {
            "/sys/fs/cgroup/web": {"memory.max": 268435456, "cpu.max": {"quota": 50000, "period": 100000}, "pids.max": "max"}
          }
        }
        """

    static let expected = HostDocument(
        rtnl: .init(
            desired: RtnlDesiredState(
                addresses: [RtnlAddressEntry(interface: "eth0", address: "10.0.0.2/24"),
                            RtnlAddressEntry(interface: "eth1", address: "fc00::2/64")],
                routes: [RtnlRouteEntry(destination: "default", gateway: "10.0.0.1"),
                         RtnlRouteEntry(destination: "10.60.0.0/24", gateway: "10.0.0.1", table: 100, metric: 50)]),
            options: RtnlOptions(routeProtocol: 77)),
        sysctl: .init(
            desired: ["net.ipv4.ip_forward": 1, "net/ipv4/ip_local_port_range": "32768 60999"],
            options: SysctlOptions(revertOnRelease: true)),
        cgroups: [.init(path: "/sys/fs/cgroup/web", desired: [
            "memory.max": 268_435_456, "cpu.max": .cpuMax(quota: 50_000, period: 100_000), "pids.max": .max,
        ])])

    @Test("YAML and JSON read to the same document")
    func yamlAndJSONAgree() throws {
        #expect(try HostDocument.parse(Self.yaml, format: .yaml) == Self.expected)
        #expect(try HostDocument.parse(Self.json, format: .json) == Self.expected)
    }

    @Test("every entry has its line, in YAML and in JSON")
    func linesOfEveryEntry() throws {
        let yaml = try #require(try HostDocument.parse(Self.yaml, format: .yaml, file: "h.yaml").origin)
        #expect(yaml.line(of: ["rtnl", "protocol"]) == 3)
        #expect(yaml.line(of: ["rtnl", "addresses", 0]) == 5)
        #expect(yaml.line(of: ["rtnl", "addresses", 1]) == 6)
        #expect(yaml.line(of: ["rtnl", "routes", 1]) == 10)
        #expect(yaml.line(of: ["rtnl", "routes", 1, "gateway"]) == 10, "a field is on its entry's line")
        #expect(yaml.line(of: ["sysctl", "keys", "net/ipv4/ip_local_port_range"]) == 15)
        #expect(yaml.line(of: ["cgroups", "/sys/fs/cgroup/web", "pids.max"]) == 20)
        #expect(yaml.line(of: ["cgroups", "/sys/fs/cgroup/web"]) == 17)
        let json = try #require(try HostDocument.parse(Self.json, format: .json, file: "h.json").origin)
        #expect(json.line(of: ["rtnl", "addresses", 1]) == 6)
        #expect(json.line(of: ["rtnl", "routes", 1]) == 10)
        #expect(json.line(of: ["sysctl", "keys", "net.ipv4.ip_forward"]) == 15)
        #expect(json.line(of: ["cgroups", "/sys/fs/cgroup/web", "cpu.max"]) == 18)
    }

    @Test("the document prints itself as YAML and as JSON, each reading back to an equal document")
    func printsItselfBack() throws {
        let document = Self.expected
        #expect(try HostDocument.parse(document.yaml, format: .yaml) == document, "\(document.yaml)")
        #expect(try HostDocument.parse(document.json, format: .json) == document, "\(document.json)")
        #expect(document.yaml.contains("    - { interface: eth1, address: \"fc00::2/64\" }"))
        #expect(document.yaml.contains("    net/ipv4/ip_local_port_range: \"32768 60999\""))
    }

    @Test("absent is not empty: a kind not written is nil (not managed), an empty list is managed as empty")
    func absentVersusEmpty() throws {
        let addressesOnly = try HostDocument.parse("rtnl:\n  addresses:\n    - { interface: eth0, address: 10.0.0.2/24 }\n", format: .yaml)
        #expect(addressesOnly.rtnl?.desired.routes == nil)
        #expect(addressesOnly.rtnl?.desired.managed == .addresses)
        let emptied = try HostDocument.parse("rtnl:\n  routes: []\n", format: .yaml)
        #expect(emptied.rtnl?.desired.routes == [] && emptied.rtnl?.desired.addresses == nil)
        #expect(emptied.rtnl?.desired.managed == .routes)
        #expect(try HostDocument.parse("sysctl:\n  revertOnRelease: true\n", format: .yaml).sysctl?.desired == nil)
        #expect(try HostDocument.parse(#"{"sysctl": {"keys": {}}}"#, format: .json).sysctl?.desired == .empty)
        // Printed back the same way: the absent kind stays absent, the empty one `[]`.
        #expect(emptied.yaml == "rtnl:\n  routes: []\n")
        #expect(try HostDocument.parse(emptied.yaml, format: .yaml) == emptied)
        #expect(try HostDocument.parse("", format: .yaml) == HostDocument())
    }

    @Test("structural errors name the line and the entry's path", arguments: [
        ("rtnl:\n  addresses:\n    - { interface: eth0, adress: 10.9.0.1/24 }\n", 3, "rtnl.addresses[0]", "unknown key \"adress\""),
        ("rtnl:\n  routes:\n    - { gateway: 10.0.0.1 }\n", 3, "rtnl.routes[0]", "missing \"destination\""),
        ("rtnl:\n  routes:\n    - { destination: default, table: x }\n", 3, "rtnl.routes[0].table", "expected an integer"),
        ("rtnl:\n  protocol: 300\n", 2, "rtnl.protocol", "out of range"),
        ("sysctl:\n  keys:\n    net.ipv4.ip_forward: 1\n    net.ipv4.ip_forward: 0\n", 4,
         "sysctl.keys.\"net.ipv4.ip_forward\"", "given twice"),
        ("sysctl:\n  keys:\n    a: &x 1\n    b: *x\n", 4, "document", "aliases"),
        ("sysctl:\n  revertOnRelease: maybe\n", 2, "sysctl.revertOnRelease", "expected true or false"),
        ("cgroups:\n  /sys/fs/cgroup/web:\n    cpu.max: { quota: 1 }\n", 3, "cgroups.\"/sys/fs/cgroup/web\".\"cpu.max\"", "needs a period"),
        ("rtnl: [1, 2]\n", 1, "rtnl", "expected a mapping"),
        ("nft: {}\n", 1, "document", "unknown key \"nft\""),
        ("rtnl: {}\n---\nrtnl: {}\n", 2, "document", "second YAML document"),
        ("rtnl:\n  routes: [\n", 3, "document", "not valid YAML"),
    ])
    func structuralErrors(_ text: String, line: Int, path: String, reason: String) throws {
        do {
            _ = try HostDocument.parse(text, format: .yaml, file: "bad.yaml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.description.hasPrefix("bad.yaml:\(line): \(path): "), "\(error)")
            #expect(error.reason.contains(reason), "\(error)")
        }
    }

    @Test("JSON errors name their line too", arguments: [
        ("{\n  \"rtnl\": {\n    \"routes\": [\n      {\"destination\": 1,}\n    ]\n  }\n}", 4),
        ("{\"rtnl\": {}}\n\n  x", 3),
        ("{\n\"rtnl\": {\"protocol\": 76, \"protocol\": 77}}", 2),
    ])
    func jsonErrors(_ text: String, line: Int) throws {
        #expect(throws: HostDocumentError.self) { try HostDocument.parse(text, format: .json, file: "bad.json") }
        do { _ = try HostDocument.parse(text, format: .json, file: "bad.json") } catch { #expect(error.line == line, "\(error)") }
    }

    @Test("a 100,000-deep nesting is refused at once, with a short message")
    func deepNesting() throws {
        for (text, format) in [(String(repeating: "[", count: 100_000), HostDocument.Format.json),
                               ("rtnl:\n  routes:\n    - " + String(repeating: "[", count: 100_000), .yaml)] {
            do {
                _ = try HostDocument.parse(text, format: format, file: "deep")
                Issue.record("accepted")
            } catch {
                #expect(error.description.count < 200, "\(error.description.prefix(300))")
            }
        }
    }

    @Test("files that are not regular or too large are refused before they are read")
    func notRegularOrTooLarge() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("linx-doc-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func reason(_ path: String) -> String {
            do { _ = try HostDocument.load(path: path); return "accepted" } catch { return error.description }
        }
        #expect(reason(dir.path).contains("is a directory"))
        let fifo = dir.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(reason(fifo).contains("is a FIFO"))
        #expect(reason("/dev/zero").contains("is a device"))
        #expect(reason(dir.appendingPathComponent("missing.yaml").path).contains("No such file"))
        let big = dir.appendingPathComponent("big.yaml").path
        #expect(FileManager.default.createFile(atPath: big, contents: nil))
        #expect(truncate(big, off_t(HostDocument.maximumFileSize + 1)) == 0)
        #expect(reason(big).contains("at most \(HostDocument.maximumFileSize) bytes"))
        let good = dir.appendingPathComponent("host.json").path
        try Self.json.write(toFile: good, atomically: true, encoding: .utf8)
        #expect(try HostDocument.load(path: good) == Self.expected)
        let yaml = dir.appendingPathComponent("host.yaml").path
        try Self.yaml.write(toFile: yaml, atomically: true, encoding: .utf8)
        #expect(try HostDocument.load(path: yaml).origin?.line(of: ["rtnl", "routes", 0]) == 9)
    }
}
