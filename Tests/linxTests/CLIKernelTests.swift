import Foundation
import LinxLinux
import LinxTestSupport
import Testing

private let isRoot = geteuid() == 0
private let skipReason = "not root: the real-kernel linx tests need root to create throwaway namespaces"

/// `linx apply` on the real kernel, inside a throwaway namespace.
@Suite("linx on the real kernel", .enabled(if: isRoot, Comment(rawValue: skipReason)))
struct CLIKernelTests {
    init() {
        if !isRoot { print("skipping: \(skipReason)") }
    }

    @Test("apply converges a namespace that ip -j confirms; a second apply is a no-op; removing an entry deletes it")
    func applyInNamespace() async throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        try await ThrowawayNamespace.with { ns in
            try ns.ip("link", "set", "v0", "up")
            let state = linx.path("state.json")
            let file = try linx.write("ns.yaml", """
                rtnl:
                  addresses:
                    - { interface: v0, address: 10.77.0.2/24 }
                    - { interface: v0, address: 10.77.1.2/24 }
                  routes:
                    - { destination: 10.78.0.0/16, gateway: 10.77.0.1 }
                sysctl:
                  keys:
                    net.ipv4.ip_forward: 1
                """)
            let apply = try linx.run(["apply", file, "--netns", ns.name, "--state", state])
            #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
            let addresses = try ns.ip("-j", "addr", "show", "dev", "v0")
            #expect(addresses.contains("\"10.77.0.2\"") && addresses.contains("\"10.77.1.2\""))
            let routes = try ns.ip("-j", "route", "show", "proto", "76")
            #expect(routes.contains("\"10.78.0.0/16\"") && routes.contains("\"10.77.0.1\""))
            #expect(try Command.check(["ip", "netns", "exec", ns.name, "cat", "/proc/sys/net/ipv4/ip_forward"]).hasPrefix("1"))

            let again = try linx.run(["apply", file, "--netns", ns.name, "--state", state])
            #expect(again.status == 0)
            #expect(!again.stdout.contains("+ ") && !again.stdout.contains("- "), "\(again.stdout)")

            try linx.write("ns.yaml", """
                rtnl:
                  addresses:
                    - { interface: v0, address: 10.77.0.2/24 }
                  routes:
                    - { destination: 10.78.0.0/16, gateway: 10.77.0.1 }
                """)
            let shrink = try linx.run(["apply", file, "--netns", ns.name, "--state", state])
            #expect(shrink.status == 0, "\(shrink.stdout)\(shrink.stderr)")
            #expect(!(try ns.ip("-j", "addr", "show", "dev", "v0")).contains("\"10.77.1.2\""))
        }
    }

    @Test("invalid input leaves the namespace exactly as it was")
    func invalidChangesNothing() async throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        try await ThrowawayNamespace.with { ns in
            // Settled snapshots: a fresh veth's IPv6 link-local address stays
            // tentative until deferred kernel work clears it, which on a busy
            // machine can fall between the two snapshots.
            let before = (try ns.settledAddresses(timeout: .seconds(10)), try ns.ip("-j", "route", "show", "table", "all"))
            let file = try linx.write("bad.yaml", """
                rtnl:
                  addresses:
                    - { interface: v0, address: 10.77.0.2/24 }
                    - { interface: nope0, address: 10.77.1.2/24 }
                """)
            let result = try linx.run(["apply", file, "--netns", ns.name, "--state", linx.path("s.json")])
            #expect(result.status == 1 && result.stderr.contains("bad.yaml:4"), "\(result.stderr)")
            #expect((try ns.settledAddresses(timeout: .seconds(10)), try ns.ip("-j", "route", "show", "table", "all")) == before)
        }
    }
}

/// Operator errors that depend on who runs linx and on live kernel events.
/// `linx apply` of a new nf_tables table: committed without a dry run
/// first, so its commit is the check of the whole document.
@Suite("linx on the real kernel: a new nftables table", .enabled(if: isRoot, Comment(rawValue: skipReason)))
struct CLIKernelNftablesTests {
    init() {
        if !isRoot { print("skipping: \(skipReason)") }
    }

    static func document(rule: String) -> String {
        """
        rtnl:
          addresses:
            - { interface: v0, address: 10.77.0.2/24 }
        sysctl:
          keys:
            net.ipv4.ip_forward: 1
        nftables:
          tables:
            inet linx:
              chains:
                input:
                  hook: input
                  policy: drop
                  rules:
                    - tcp dport {443,22} accept
                    - \(rule)
        """
    }

    @Test("a new table with a refused rule: nothing of any section applied, the rule's line named; valid, all applied")
    func newTableRefusedThenApplied() async throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        try await ThrowawayNamespace.with { ns in
            let state = linx.path("state.json")
            let before = (try ns.settledAddresses(timeout: .seconds(10)), try ns.ip("-j", "route", "show", "table", "all"))
            let file = try linx.write("fw.yaml", Self.document(rule: "tcp dport frob accept"))
            let refused = try linx.run(["apply", file, "--netns", ns.name, "--state", state])
            #expect(refused.status == 1 && refused.stderr.contains("fw.yaml:16"), "\(refused.stdout)\(refused.stderr)")
            #expect(refused.stderr.contains("rules[1]"), "\(refused.stderr)")
            #expect(try Command.check(["ip", "netns", "exec", ns.name, "nft", "list", "ruleset"]).isEmpty)
            #expect(try Command.check(["ip", "netns", "exec", ns.name, "cat", "/proc/sys/net/ipv4/ip_forward"]).hasPrefix("0"))
            #expect((try ns.settledAddresses(timeout: .seconds(10)), try ns.ip("-j", "route", "show", "table", "all")) == before)

            try linx.write("fw.yaml", Self.document(rule: "tcp dport 8080 accept"))
            let applied = try linx.run(["apply", file, "--netns", ns.name, "--state", state])
            #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
            let listed = try Command.check(["ip", "netns", "exec", ns.name, "nft", "list", "table", "inet", "linx"])
            #expect(listed.contains("tcp dport 8080 accept") && listed.contains("comment \"linx\""), "\(listed)")
            #expect(try Command.check(["ip", "netns", "exec", ns.name, "cat", "/proc/sys/net/ipv4/ip_forward"]).hasPrefix("1"))
            let again = try linx.run(["apply", file, "--netns", ns.name, "--state", state])
            #expect(again.status == 0 && !again.stdout.contains("+ ") && !again.stdout.contains("- "), "\(again.stdout)")
        }
    }
}

extension CLIKernelNftablesTests {
    @Test("with descriptors 0-1023 all open, the nftables section is refused with an error, not aborted in libnftables")
    func descriptorsPastTheSelectLimit() async throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        try await ThrowawayNamespace.with { ns in
            let file = try linx.write(
                "fw.yaml",
                "nftables:\n  tables:\n    inet linx:\n      chains:\n        input:\n          hook: input\n"
                    + "          rules:\n            - tcp dport 22 accept\n")
            // libnftables' select() aborts (SIGABRT, status 134) once its socket is descriptor 1024 or more.
            let fill = "ulimit -n 4096 && for fd in $(seq 3 1100); do eval \"exec $fd</dev/null\"; done; exec \"$@\""
            let result = Command.run(
                ["bash", "-c", fill, "bash", LinxBinary.executable.path, "apply", file, "--netns", ns.name,
                 "--state", linx.path("state.json")])
            #expect(result.status != 0 && result.status != 134, "\(result.status) \(result.stdout)\(result.stderr)")
            #expect(result.stderr.contains("libnftables cannot use descriptor"), "\(result.stderr)")
            #expect(try Command.check(["ip", "netns", "exec", ns.name, "nft", "list", "ruleset"]).isEmpty)
        }
    }
}

extension CLIKernelNftablesTests {
    @Test("fidelity --subsystem nftables compares every seed's nf_tables sequence and removes its namespaces")
    func fidelityNftables() throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        let running = try linx.start(["fidelity", "--seeds", "3", "--seed", "41", "--steps", "12", "--subsystem", "nftables"])
        let result = running.wait()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("3 nftables sequence(s) compared, 0 divergence(s)"), "\(result.stdout)")
        #expect(!result.stdout.contains("rtnl+sysctl"), "\(result.stdout)")
        let left = try Command.check(["ip", "netns", "list"])
        #expect(!left.contains("\(ThrowawayNamespace.prefix)\(running.pid)-"), "\(left)")

        let unknown = try linx.run(["fidelity", "--seeds", "1", "--subsystem", "rtnl,nft"])
        #expect(unknown.status != 0 && unknown.stderr.contains("unknown subsystem \"nft\""), "\(unknown.stderr)")
    }
}

@Suite("linx on the real kernel: privileges and monitor", .enabled(if: isRoot, Comment(rawValue: skipReason)))
struct CLIKernelPrivilegeTests {
    @Test("apply without root is refused in one line, before anything is read or changed")
    func notRoot() throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        let file = try linx.example("router.yaml")
        // setpriv drops to nobody for this one process; the test itself stays root.
        let result = try linx.run(["--drop-to-nobody", "apply", file])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr == "linx: this changes the kernel and must run as root (or try it with --backend sim)\n")
    }

    @Test("monitor prints a change made with ip as one line")
    func monitorSeesChange() async throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        try await ThrowawayNamespace.with { ns in
            let monitor = try linx.start(["monitor", "--netns", ns.name])
            defer {
                monitor.signal(SIGTERM)
                _ = monitor.wait()
            }
            // The monitor subscribes before its first read; retry the change
            // until a line shows up rather than guessing when it is listening.
            var seen = false
            for attempt in 0..<50 where !seen {
                try ns.ip("addr", "add", "10.66.\(attempt).1/24", "dev", "v0")
                seen = await waitFor(monitor, toPrint: "new address 10.66.", within: .milliseconds(100))
            }
            #expect(seen, "monitor printed: \(monitor.stdout)")
        }
    }
}

/// Polls a background command's output for `needle` until `timeout` of wall time passes.
func waitFor(_ running: Command.Running, toPrint needle: String, within timeout: Duration) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if running.stdout.contains(needle) || running.stderr.contains(needle) { return true }
        await Task.yield()
    }
    return running.stdout.contains(needle) || running.stderr.contains(needle)
}
