import Foundation
import Testing

/// Every mistake an operator can make gets one clear line and a non-zero
/// exit status, and changes nothing.
@Suite("linx errors")
struct CLIErrorTests {
    let linx: LinxBinary
    init() throws { linx = try LinxBinary() }

    /// Runs `apply` on `yaml` and checks the one-line error, then that the
    /// simulated host is unchanged (a plan of a known file still plans everything).
    private func rejects(_ yaml: String, saying expected: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = try linx.write("bad.yaml", yaml)
        let result = try linx.sim(["apply", file])
        #expect(result.status == 1, sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(expected), "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
        let show = try linx.sim(["show", "--section", "rtnl"]).stdout
        #expect(!show.contains("10.9."), "something was applied: \(show)", sourceLocation: sourceLocation)
    }

    @Test("an unknown key names the file, the line and the allowed keys")
    func unknownKey() throws {
        defer { linx.cleanUp() }
        try rejects("rtnl:\n  addresses:\n    - { interface: eth0, adress: 10.9.0.1/24 }\n", saying: "bad.yaml:3: rtnl.addresses[0]: unknown key \"adress\"")
    }

    @Test("an invalid address names its line and the reason")
    func invalidAddress() throws {
        defer { linx.cleanUp() }
        try rejects("rtnl:\n  routes:\n    - { destination: 10.9.0.1/24, gateway: 10.0.0.1 }\n", saying: "bad.yaml:3: rtnl.routes[0]: destination \"10.9.0.1/24\": host bits are set")
    }

    @Test("an empty address or a missing field is refused on its entry's line, not a crash")
    func emptyOrMissingField() throws {
        defer { linx.cleanUp() }
        try rejects(
            "rtnl:\n  addresses:\n    - { interface: eth0, address: \"\" }\n",
            saying: "bad.yaml:3: rtnl.addresses[0]: \"\": not a valid IPv4 address")
        try rejects(
            "rtnl:\n  addresses:\n    - { interface: eth0 }\n",
            saying: "bad.yaml:3: rtnl.addresses[0]: missing \"address\"")
    }

    @Test("a key given twice names its line instead of quoting the parser")
    func duplicateKey() throws {
        defer { linx.cleanUp() }
        try rejects(
            "sysctl:\n  keys:\n    net.ipv4.ip_forward: 1\n    net.ipv4.ip_forward: 0\n",
            saying: "bad.yaml:4: sysctl.keys.\"net.ipv4.ip_forward\": \"net.ipv4.ip_forward\" given twice in one mapping")
    }

    @Test("a bad cgroup file is located in its own cgroup, even when another cgroup sets the same file")
    func cgroupFileLine() throws {
        defer { linx.cleanUp() }
        try linx.write("host.json", #"{ "namespaces": { "": ["eth0"] }, "cgroups": ["/sys/fs/cgroup/a", "/sys/fs/cgroup/b"], "journal": [] }"#)
        try rejects(
            "cgroups:\n  /sys/fs/cgroup/a:\n    \"..\": 1\n  /sys/fs/cgroup/b:\n    memory.max: 100\n    \"..\": 2\n",
            saying: "bad.yaml:3: cgroups.\"/sys/fs/cgroup/a\".\"..\": a file name must not contain '..'")
        try rejects(
            "cgroups:\n  /sys/fs/cgroup/a:\n    memory.max: 100\n  /sys/fs/cgroup/b:\n    memory.max: 100\n    \"..\": 2\n",
            saying: "bad.yaml:6: cgroups.\"/sys/fs/cgroup/b\".\"..\": a file name must not contain '..'")
        try rejects(
            "cgroups:\n  /sys/fs/cgroup/a:\n    memory.nope: 1\n",
            saying: "bad.yaml:3: cgroups.\"/sys/fs/cgroup/a\".\"memory.nope\": not a limit file linx manages")
        // A limit the cgroup does not have is found when planning, on its line too.
        try rejects(
            "cgroups:\n  /sys/fs/cgroup/a:\n    rdma.max: 1\n",
            saying: "bad.yaml:3: cgroups.\"/sys/fs/cgroup/a\".\"rdma.max\": /sys/fs/cgroup/a has no such file")
    }

    @Test("an unknown interface is found when planning, named with its line, and nothing is applied")
    func unknownInterface() throws {
        defer { linx.cleanUp() }
        try rejects("""
            rtnl:
              addresses:
                - { interface: eth0, address: 10.9.0.1/24 }
                - { interface: eth9, address: 10.9.1.1/24 }
            """, saying: "bad.yaml:4: rtnl.addresses[1]: no interface named \"eth9\"")
    }

    @Test("an invalid entry in a later section applies nothing from earlier ones")
    func laterSectionInvalid() throws {
        defer { linx.cleanUp() }
        try rejects("""
            rtnl:
              addresses:
                - { interface: eth0, address: 10.9.0.1/24 }
            sysctl:
              keys:
                net.ipv4.no_such_key: 1
            """, saying: "no_such_key")
    }

    /// On the real kernel the set type below, unchecked, flushed every
    /// table of the namespace (NftDesiredTextTests has the rule).
    @Test("nftables text that would end its nft command is refused on its line, and nothing is applied")
    func nftInjection() throws {
        defer { linx.cleanUp() }
        let address = "rtnl:\n  addresses:\n    - { interface: eth0, address: 10.9.0.1/24 }\n"
        try rejects(
            address + "nftables:\n  tables:\n    inet linx:\n      sets:\n        s:\n"
                + "          type: \"ipv4_addr; }; flush ruleset; add table inet zz; add set inet zz s2 { type ipv4_addr\"\n",
            saying: "bad.yaml:9: nftables.tables.\"inet linx\".sets.s.type: a newline or ';' in a set type: \"ipv4_addr; }; flush ruleset;")
        try rejects(
            address + "nftables:\n  tables:\n    inet linx:\n      chains:\n        input:\n          rules:\n"
                + "            - ct state established accept\n            - \"accept\\u0000drop\"\n",
            saying: "bad.yaml:11: nftables.tables.\"inet linx\".chains.input.rules[1]: a control character (U+0000): \"accept\\0drop\"")
    }

    @Test("malformed YAML names the line")
    func malformed() throws {
        defer { linx.cleanUp() }
        try rejects("rtnl:\n  addresses: [\n", saying: "bad.yaml:")
    }

    @Test("an unreadable file, a missing namespace and conflicting options each get one line and exit non-zero")
    func operatorMistakes() throws {
        defer { linx.cleanUp() }
        let missing = try linx.sim(["plan", linx.path("nope.yaml")])
        #expect(missing.status == 1 && missing.stderr.contains("nope.yaml: document: cannot read it"), "\(missing.stderr)")
        let file = LinxBinary.examples.appendingPathComponent("container.yaml").path
        let noNetns = try linx.sim(["plan", file, "--netns", "does-not-exist"])
        #expect(noNetns.status == 1 && noNetns.stderr.contains("network namespace not found"), "\(noNetns.stderr)")
        let conflict = try linx.run(["plan", file, "--netns", "a", "--pid", "1"])
        #expect(conflict.status != 0 && conflict.stderr.contains("at most one of --netns, --netns-path and --pid"))
        let simState = try linx.run(["plan", file, "--sim-state", linx.path("x.json")])
        #expect(simState.status != 0 && simState.stderr.contains("--sim-state needs --backend sim"))
    }

    @Test("an --interval the loop cannot use is refused before anything is applied")
    func badInterval() throws {
        defer { linx.cleanUp() }
        let file = LinxBinary.examples.appendingPathComponent("router.yaml").path
        for interval in ["0", "1e-9", "inf", "nan"] {
            let result = try linx.sim(["apply", file, "--watch", "--interval", interval])
            #expect(result.status != 0, "\(interval)")
            #expect(result.stderr.contains("--interval must be between"), "\(interval): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(interval): \(result.stdout)")
        }
        #expect(try linx.sim(["plan", file]).status == 2, "something was applied")
    }

    @Test("every subcommand has a manual-style --help")
    func help() throws {
        defer { linx.cleanUp() }
        for command in ["plan", "apply", "show", "monitor"] {
            let help = try linx.run([command, "--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("OVERVIEW:") && help.stdout.contains("--netns"), "\(command)")
        }
        #expect(try linx.run(["--generate-completion-script", "bash"]).stdout.contains("linx"))
    }
}
