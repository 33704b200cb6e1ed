import Foundation
import LinxLinux
import LinxTestSupport
import Testing

private let isRoot = geteuid() == 0
private let skipReason = "not root: the real-kernel linx tests need root to create throwaway namespaces"

/// Ownership on the real kernel never crosses scopes (issue 11, findings 5,
/// 6 and 8), in throwaway namespaces.
@Suite("linx state files on the real kernel", .enabled(if: isRoot, Comment(rawValue: skipReason)))
struct CLIKernelStateTests {
    @Test("a state file written for namespace A is refused for namespace B, whose address of the same key stays")
    func stateFileOfAnotherNamespace() async throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        let state = linx.path("s.json")
        let address = try linx.write("a.yaml", "rtnl:\n  addresses:\n    - { interface: v0, address: 10.77.0.2/24 }\n  routes: []\n")
        let nothing = try linx.write("none.yaml", "rtnl:\n  addresses: []\n  routes: []\n")
        try await ThrowawayNamespace.with { a in
            try await ThrowawayNamespace.with { b in
                #expect(try linx.run(["apply", address, "--netns", a.name, "--state", state]).status == 0)
                try b.ip("addr", "add", "10.77.0.2/24", "dev", "v0")
                let wrong = try linx.run(["apply", nothing, "--netns", b.name, "--state", state])
                #expect(wrong.status == 1)
                #expect(wrong.stderr.contains("belongs to another scope: written for netns /run/netns/\(a.name)"), "\(wrong.stderr)")
                #expect(try b.ip("-j", "addr", "show", "dev", "v0").contains("\"10.77.0.2\""), "B's own address was deleted")
                #expect(try a.ip("-j", "addr", "show", "dev", "v0").contains("\"10.77.0.2\""))
                // A namespace re-created under A's name is another namespace.
                let name = a.name
                a.remove()
                try Command.check(["ip", "netns", "add", name])
                let recreated = try linx.run(["apply", nothing, "--netns", name, "--state", state])
                #expect(recreated.status == 1)
                #expect(recreated.stderr.contains("a namespace re-created under the same name is another namespace"), "\(recreated.stderr)")
            }
        }
    }

    @Test("a host-wide key in a namespace's state file is not released from it: the host's value is never written")
    func hostWideKeyNotReleased() async throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        let state = linx.path("s.json")
        let before = try String(contentsOfFile: "/proc/sys/kernel/domainname", encoding: .utf8)
        try await ThrowawayNamespace.with { ns in
            let forward = try linx.write("f.yaml", "sysctl:\n  keys:\n    net.ipv4.ip_forward: 1\n")
            #expect(try linx.run(["apply", forward, "--netns", ns.name, "--state", state]).status == 0)
            // The record now claims the host-wide kernel.domainname, with an original to revert to.
            var saved = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state))) as? [String: Any])
            var sysctl = try #require(saved["sysctl"] as? [String: String])
            sysctl["kernel.domainname"] = "linx-planted"
            saved["sysctl"] = sysctl
            try JSONSerialization.data(withJSONObject: saved).write(to: URL(fileURLWithPath: state))
            let release = try linx.write("r.yaml", "sysctl:\n  revertOnRelease: true\n  keys:\n    net.ipv4.ip_forward: 1\n")
            // In a throwaway UTS namespace too (kernel.domainname is per UTS
            // namespace), so even a linx without the guard cannot touch the
            // host's: the shell prints what the write would have changed.
            let result = Command.run([
                "unshare", "--uts", "--", "sh", "-c", #""$0" "$@"; echo "rc=$?"; cat /proc/sys/kernel/domainname"#,
                LinxBinary.executable.path, "apply", release, "--netns", ns.name, "--state", state,
            ])
            #expect(result.stdout.contains("rc=1"), "\(result.stdout)\(result.stderr)")
            #expect(result.stderr.contains("sysctl kernel.domainname (owned, to be released): kernel.domainname is not isolated by network namespaces"), "\(result.stderr)")
            #expect(result.stdout.hasSuffix("\n\(before)"), "the domainname was written: \(result.stdout)")
        }
        #expect(try String(contentsOfFile: "/proc/sys/kernel/domainname", encoding: .utf8) == before)
    }

    @Test("two applies of different files racing on one state file never leak an address")
    func concurrentApplies() async throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        let first = try linx.write("a.yaml", "rtnl:\n  addresses:\n    - { interface: v0, address: 10.79.1.1/24 }\n  routes: []\n")
        let second = try linx.write("b.yaml", "rtnl:\n  addresses:\n    - { interface: v1, address: 10.79.2.1/24 }\n  routes: []\n")
        let nothing = try linx.write("none.yaml", "rtnl:\n  addresses: []\n  routes: []\n")
        try await ThrowawayNamespace.with { ns in
            for round in 0..<10 {
                let state = linx.path("s-\(round).json")
                let runs = try [first, second].map { try linx.start(["apply", $0, "--netns", ns.name, "--state", state]) }
                for result in runs.map({ $0.wait() }) {
                    #expect(result.status == 0 || result.stderr.contains("is in use by another linx apply"), "\(result.stderr)")
                }
                // Releasing everything the state file records must leave nothing of ours behind.
                let release = try linx.run(["apply", nothing, "--netns", ns.name, "--state", state])
                #expect(release.status == 0, "\(release.stderr)")
                let left = try ns.ip("-j", "addr")
                #expect(!left.contains("10.79."), "round \(round): leaked \(left)")
                if left.contains("10.79.") {
                    try ns.ip("addr", "flush", "dev", "v0")
                    try ns.ip("addr", "flush", "dev", "v1")
                }
            }
        }
    }
}
