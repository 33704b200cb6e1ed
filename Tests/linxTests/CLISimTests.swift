import Foundation
import LinxTestSupport
import Testing

/// The `linx` command end to end on a simulated host that persists between
/// invocations (no root needed).
@Suite("linx on a simulated host")
struct CLISimTests {
    let linx: LinxBinary
    init() throws { linx = try LinxBinary() }

    @Test("plan says what would change (exit 2), apply converges, a second apply is a no-op (exit 0)")
    func planApplyReplan() throws {
        defer { linx.cleanUp() }
        let file = LinxBinary.examples.appendingPathComponent("router.yaml").path
        let plan = try linx.sim(["plan", file])
        #expect(plan.status == 2, "\(plan.stderr)")
        #expect(plan.stdout.contains("+ address 192.0.2.10/24"))
        #expect(plan.stdout.contains("~ net.ipv4.ip_forward = 0 -> net.ipv4.ip_forward = 1"))

        let apply = try linx.sim(["apply", file])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(apply.stdout.contains("converged"))

        let second = try linx.sim(["apply", file])
        #expect(second.status == 0)
        #expect(!second.stdout.contains("+ ") && !second.stdout.contains("- "), "\(second.stdout)")
        #expect(try linx.sim(["plan", file]).status == 0)
    }

    @Test("plan --json and apply --json print the library's plans and reports as they are")
    func planJSON() throws {
        defer { linx.cleanUp() }
        let file = LinxBinary.examples.appendingPathComponent("service-cgroup.yaml").path
        let result = try linx.sim(["plan", file, "--json"])
        #expect(result.status == 2)
        let sections = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]
        let section = try #require(sections?.first)
        #expect(section["section"] as? String == "cgroups" && section["cgroup"] as? String != nil)
        let ops = try #require(section["ops"] as? [[String: Any]])
        #expect(ops.count == 5)
        #expect(ops.allSatisfy { ["create", "update"].contains($0["op"] as? String) && $0["item"] is [String: Any] })

        let apply = try linx.sim(["apply", file, "--json"])
        #expect(apply.status == 0, "\(apply.stderr)")
        let reports = try JSONSerialization.jsonObject(with: Data(apply.stdout.utf8)) as? [[String: Any]]
        let report = try #require(reports?.first?["report"] as? [String: Any])
        #expect(report["converged"] as? Bool == true && report["strategy"] as? String == "bestEffort")
        #expect((report["applied"] as? [Any])?.count == 5 && report["lastApplied"] != nil)
    }

    @Test("plan names the kinds an rtnl section manages; an absent routes key deletes no owned route")
    func absentKindIsNotManaged() throws {
        defer { linx.cleanUp() }
        let full = try linx.write("full.yaml", """
            rtnl:
              addresses:
                - { interface: eth0, address: 10.7.0.2/24 }
              routes:
                - { destination: 10.70.0.0/24, gateway: 10.7.0.1 }
            """)
        #expect(try linx.sim(["apply", full]).status == 0)
        let partial = try linx.write("partial.yaml", "rtnl:\n  addresses:\n    - { interface: eth0, address: 10.7.0.2/24 }\n")
        let plan = try linx.sim(["plan", partial])
        #expect(plan.status == 0 && plan.stdout.contains("manages only addresses"), "\(plan.stdout)")
        #expect(try linx.sim(["apply", partial]).status == 0)
        #expect(try linx.sim(["show", "--section", "rtnl"]).stdout.contains("10.70.0.0/24"))
    }

    @Test("the firewall example: plan (exit 2), apply, a re-plan is empty across runs, show prints the table back")
    func firewall() throws {
        defer { linx.cleanUp() }
        let file = LinxBinary.examples.appendingPathComponent("firewall.yaml").path
        let plan = try linx.sim(["plan", file])
        #expect(plan.status == 2, "\(plan.stdout)\(plan.stderr)")
        #expect(plan.stdout.contains("nftables inet linx") && plan.stdout.contains("+ rule input \"tcp dport { 80, 443 } accept\""), "\(plan.stdout)")
        let apply = try linx.sim(["apply", file])
        #expect(apply.status == 0 && apply.stdout.contains("converged"), "\(apply.stdout)\(apply.stderr)")
        // The simulated host replays the committed transactions on the next run.
        let replan = try linx.sim(["plan", file])
        #expect(replan.status == 0, "\(replan.stdout)\(replan.stderr)")
        let show = try linx.sim(["show", "--section", "nftables"])
        #expect(show.status == 0 && show.stdout.contains("\"inet linx\":") && show.stdout.contains("policy: drop"), "\(show.stdout)")
        #expect(!show.stdout.contains("no linx marker"))
        let shown = try linx.write("shown.yaml", show.stdout)
        #expect(try linx.sim(["plan", shown]).status == 0)
    }

    /// On the kernel an owned table goes with the owning socket, i.e. when
    /// the one-shot apply exits; the simulated host journals that exit.
    @Test("lifetime owned: a one-shot apply warns, and the next run finds the table gone; ownedPersistent: orphaned, kept")
    func ownedTableGoesWithTheApply() throws {
        defer { linx.cleanUp() }
        func document(_ lifetime: String) throws -> String {
            try linx.write("\(lifetime).yaml", """
                nftables:
                  lifetime: \(lifetime)
                  tables:
                    inet linx:
                      chains:
                        input:
                          hook: input
                          rules:
                            - tcp dport 22 accept
                """)
        }
        let owned = try document("owned")
        let apply = try linx.sim(["apply", owned])
        #expect(apply.status == 0 && apply.stdout.contains("+ rule input"), "\(apply.stdout)\(apply.stderr)")
        #expect(apply.stderr.contains("warning: nftables lifetime owned: the kernel removes table inet linx when this apply exits"), "\(apply.stderr)")
        let show = try linx.sim(["show", "--section", "nftables"])
        #expect(show.status == 0 && !show.stdout.contains("inet linx"), "\(show.stdout)")
        // So the next plan creates it again, as on the kernel.
        let plan = try linx.sim(["plan", owned])
        #expect(plan.status == 2 && plan.stdout.contains("+ rule input \"tcp dport 22 accept\""), "\(plan.stdout)\(plan.stderr)")

        let kept = try document("ownedPersistent")
        let applied = try linx.sim(["apply", kept])
        #expect(applied.status == 0 && !applied.stderr.contains("warning"), "\(applied.stdout)\(applied.stderr)")
        let orphaned = try linx.sim(["show", "--section", "nftables"])
        #expect(orphaned.stdout.contains("\"inet linx\":") && orphaned.stdout.contains("tcp dport 22 accept"), "\(orphaned.stdout)")
        #expect(try linx.sim(["plan", kept]).status == 0)
    }

    @Test("lifetime owned under --watch: the table stays while the watch runs and goes when it is stopped")
    func ownedTableGoesWithTheWatch() async throws {
        defer { linx.cleanUp() }
        let file = try linx.write("owned.yaml", "nftables:\n  lifetime: owned\n  tables:\n    inet linx:\n      chains:\n        input:\n          hook: input\n")
        let watch = try linx.start(["apply", file, "--watch", "--interval", "3600", "--backend", "sim", "--sim-state", linx.path("host.json")])
        defer {
            watch.signal(SIGKILL)
            _ = watch.wait()
        }
        #expect(await waitFor(watch, toPrint: "watching", within: .seconds(60)), "\(watch.stderr)")
        #expect(!watch.stderr.contains("warning: nftables lifetime owned"), "\(watch.stderr)")
        watch.signal(SIGTERM)
        let ended = watch.wait()
        #expect(ended.status == 0, "\(ended.stdout)\(ended.stderr)")
        let show = try linx.sim(["show", "--section", "nftables"])
        #expect(show.status == 0 && !show.stdout.contains("inet linx"), "\(show.stdout)")
        // The watch's own first pass was journalled before the close: the
        // next plan creates the table again.
        #expect(try linx.sim(["plan", file]).status == 2)
    }

    @Test("show prints a desired-state file that plans to no change")
    func showRoundTrips() throws {
        defer { linx.cleanUp() }
        let file = LinxBinary.examples.appendingPathComponent("router.yaml").path
        #expect(try linx.sim(["apply", file]).status == 0)
        let show = try linx.sim(["show"])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("{ interface: eth0, address: 192.0.2.10/24 }"))
        #expect(show.stdout.contains("{ destination: 10.30.0.0/16, gateway: 10.20.0.254, metric: 50 }"))
        let shown = try linx.write("shown.yaml", show.stdout)
        let replan = try linx.sim(["plan", shown])
        #expect(replan.status == 0, "\(replan.stdout)\(replan.stderr)")
    }

    @Test("show --json prints the document and what it leaves out; --all adds the kernel's own objects; a missing --sysctl is reported")
    func showJSONAndAll() throws {
        defer { linx.cleanUp() }
        let file = LinxBinary.examples.appendingPathComponent("router.yaml").path
        #expect(try linx.sim(["apply", file]).status == 0)
        let show = try linx.sim(["show", "--json", "--all", "--sysctl", "net.ipv4.ip_forward", "--sysctl", "net.no.such.key"])
        #expect(show.status == 0, "\(show.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        let document = try #require(object["document"] as? [String: Any])
        let rtnl = try #require(document["rtnl"] as? [String: Any])
        #expect((rtnl["routes"] as? [[String: Any]])?.count == 3)
        #expect(object["missingSysctls"] as? [String] == ["net.no.such.key"])
        let observed = try #require(object["observed"] as? [String: Any])
        let routes = try #require(observed["routes"] as? [[String: Any]])
        #expect(routes.contains { $0["type"] as? String == "local" && $0["table"] as? Int == 255 && $0["owner"] as? String == "kernel" })
        // The kernel's prefix route of an address prefers that address as its source.
        #expect(routes.contains { $0["destination"] as? String == "192.0.2.0/24" && $0["prefsrc"] as? String == "192.0.2.10" }, "\(routes)")
        let addresses = try #require(observed["addresses"] as? [[String: Any]])
        #expect(addresses.contains { $0["address"] as? String == "192.0.2.10/24" && $0["primary"] as? Bool == true })
        // The document part is a desired-state file as it is.
        let plain = try JSONSerialization.jsonObject(with: Data(try linx.sim(["show", "--json"]).stdout.utf8)) as? [String: Any]
        let documentFile = try linx.write("shown.json", String(
            decoding: try JSONSerialization.data(withJSONObject: try #require(plain?["document"])), as: UTF8.self))
        #expect(try linx.sim(["plan", documentFile]).status == 0)
        let text = try linx.sim(["show", "--sysctl", "net.no.such.key"])
        #expect(text.status == 0 && text.stdout.contains("# missing sysctl: net.no.such.key"), "\(text.stdout)\(text.stderr)")
    }

    @Test("an entry removed from the file is deleted on the next apply, thanks to the state file")
    func removedEntryIsDeleted() throws {
        defer { linx.cleanUp() }
        let two = try linx.write("two.yaml", """
            rtnl:
              addresses:
                - { interface: eth0, address: 10.0.0.2/24 }
                - { interface: eth0, address: 10.0.0.3/24 }
            """)
        let one = try linx.write("one.yaml", """
            rtnl:
              addresses:
                - { interface: eth0, address: 10.0.0.2/24 }
            """)
        #expect(try linx.sim(["apply", two, "--state", linx.path("state.json")]).status == 0)
        let second = try linx.sim(["apply", one, "--state", linx.path("state.json")])
        #expect(second.status == 0)
        #expect(second.stdout.contains("- address 10.0.0.3/24 dev eth0"), "\(second.stdout)")
        let show = try linx.sim(["show", "--section", "rtnl"]).stdout
        #expect(show.contains("10.0.0.2/24") && !show.contains("10.0.0.3/24"))
    }

    @Test("a corrupt state file means linx owns nothing: nothing is deleted, and a warning says so")
    func corruptStateDeletesNothing() throws {
        defer { linx.cleanUp() }
        let state = linx.path("state.json")
        let two = try linx.write("two.yaml", """
            rtnl:
              addresses:
                - { interface: eth0, address: 10.0.0.2/24 }
                - { interface: eth0, address: 10.0.0.3/24 }
            """)
        let one = try linx.write("one.yaml", "rtnl:\n  addresses:\n    - { interface: eth0, address: 10.0.0.2/24 }\n")
        #expect(try linx.sim(["apply", two, "--state", state]).status == 0)
        try "{ not json".write(toFile: state, atomically: true, encoding: .utf8)
        let second = try linx.sim(["apply", one, "--state", state])
        #expect(second.status == 0)
        #expect(second.stderr.contains("corrupt"))
        #expect(!second.stdout.contains("- address"))
        #expect(try linx.sim(["show", "--section", "rtnl"]).stdout.contains("10.0.0.3/24"))
    }

    @Test("the state file is replaced atomically and records what was installed")
    func stateFileContents() throws {
        defer { linx.cleanUp() }
        let state = linx.path("state.json")
        let file = LinxBinary.examples.appendingPathComponent("container.yaml").path
        #expect(try linx.sim(["apply", file, "--state", state]).status == 0)
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state))) as? [String: Any]
        #expect((saved?["rtnl"] as? [String: Any]) != nil)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: linx.directory.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test("a simulated host without --sim-state keeps no state file: apply needs no root and writes nothing outside")
    func throwawaySimHost() throws {
        defer { linx.cleanUp() }
        let file = try linx.example("container.yaml")
        // As root, run it as nobody: a state file under /var/lib/linx is then refused, as for any user.
        let arguments = ["apply", file, "--backend", "sim"]
        let result = try linx.run(geteuid() == 0 ? ["--drop-to-nobody"] + arguments : arguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("converged"), "\(result.stdout)")
        #expect(!result.stderr.contains("state file"), "\(result.stderr)")
    }

    @Test("--netns NAME and --netns-path /run/netns/NAME are one scope and share one default state file")
    func namedAndPathShareState() throws {
        defer { linx.cleanUp() }
        try linx.write("host.json", #"{ "namespaces": { "": ["eth0"], "web": ["eth0"] }, "cgroups": [], "journal": [] }"#)
        let two = try linx.write("two.yaml", """
            rtnl:
              addresses:
                - { interface: eth0, address: 10.0.0.2/24 }
                - { interface: eth0, address: 10.0.0.3/24 }
            """)
        let one = try linx.write("one.yaml", "rtnl:\n  addresses:\n    - { interface: eth0, address: 10.0.0.2/24 }\n")
        #expect(try linx.sim(["apply", two, "--netns", "web"]).status == 0)
        let second = try linx.sim(["apply", one, "--netns-path", "/run/netns/web"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("- address 10.0.0.3/24 dev eth0"), "\(second.stdout)\(second.stderr)")
    }

    @Test("a state file that cannot be used (a directory) is one error line, before anything is applied")
    func unusableStateFile() throws {
        defer { linx.cleanUp() }
        let directory = linx.path("state-is-a-directory")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let file = LinxBinary.examples.appendingPathComponent("container.yaml").path
        let result = try linx.sim(["apply", file, "--state", directory])
        #expect(result.status == 1)
        #expect(result.stderr == "linx: cannot use state file \(directory): is a directory, not a file\n", "\(result.stderr)")
        #expect(result.stdout.isEmpty, "\(result.stdout)")
        // The lock is taken before anything is read or applied: the simulated host is untouched.
        #expect(try linx.sim(["plan", file]).status == 2)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: linx.directory.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}
