import Foundation
import LinxLinux
import Testing

@testable import linx
import LinxTestSupport

/// The state file holds ownership, so it must only ever be used for its own
/// scope, only by one apply at a time, and written without following
/// anything someone else planted (issue 11, findings 5, 7 and 8). Inputs
/// that are not regular files get a clear line (issue 11, "also").
@Suite("linx state files and inputs")
struct CLIStateFileTests {
    let linx: LinxBinary
    init() throws { linx = try LinxBinary() }

    private let twoNamespaces = #"{ "namespaces": { "": ["eth0"], "ns1": ["eth0"] }, "cgroups": [], "journal": [] }"#

    @Test("a state file written for one namespace is refused for another, and the other's objects stay")
    func stateFileOfAnotherScope() throws {
        defer { linx.cleanUp() }
        try linx.write("host.json", twoNamespaces)
        let state = linx.path("s.json")
        let address = try linx.write("a.yaml", "rtnl:\n  addresses:\n    - { interface: eth0, address: 10.9.0.1/24 }\n  routes: []\n")
        let nothing = try linx.write("none.yaml", "rtnl:\n  addresses: []\n  routes: []\n")
        // ns1 holds the same address, installed by someone else (another state file).
        #expect(try linx.sim(["apply", address, "--netns", "ns1", "--state", linx.path("other.json")]).status == 0)
        // The host's namespace: S records 10.9.0.1/24 on eth0 as ours.
        #expect(try linx.sim(["apply", address, "--state", state]).status == 0)

        let wrong = try linx.sim(["apply", nothing, "--netns", "ns1", "--state", state])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("state file \(state) belongs to another scope: written for current netns, not netns /run/netns/ns1"), "\(wrong.stderr)")
        #expect(wrong.stdout.isEmpty)
        let plan = try linx.sim(["plan", nothing, "--netns", "ns1", "--state", state])
        #expect(plan.status == 1 && plan.stderr.contains("belongs to another scope"), "\(plan.stderr)")
        let ns1 = try linx.sim(["show", "--section", "rtnl", "--netns", "ns1"]).stdout
        #expect(ns1.contains("10.9.0.1/24"), "ns1's own address was deleted: \(ns1)")
        // In its own scope the same file still works: the address is released there.
        #expect(try linx.sim(["apply", nothing, "--state", state]).status == 0)
        #expect(!(try linx.sim(["show", "--section", "rtnl"]).stdout.contains("10.9.0.1/24")))
    }

    @Test("a state file without a scope (older linx) is used at its scope's default path, and refused anywhere else")
    func legacyStateFile() throws {
        defer { linx.cleanUp() }
        let address = try linx.write("a.yaml", "rtnl:\n  addresses:\n    - { interface: eth0, address: 10.9.0.1/24 }\n  routes: []\n")
        #expect(try linx.sim(["apply", address]).status == 0)
        let defaultPath = linx.path("host.json.host.state.json")
        // Strip the scope, as an older linx wrote it.
        var saved = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: defaultPath))) as? [String: Any])
        #expect(saved["scope"] != nil)
        saved["scope"] = nil
        let legacy = try JSONSerialization.data(withJSONObject: saved)
        try legacy.write(to: URL(fileURLWithPath: defaultPath))
        try legacy.write(to: URL(fileURLWithPath: linx.path("moved.json")))

        let elsewhere = try linx.sim(["apply", address, "--state", linx.path("moved.json")])
        #expect(elsewhere.status == 1)
        #expect(elsewhere.stderr.contains("does not record which scope it belongs to"), "\(elsewhere.stderr)")

        let atDefault = try linx.sim(["apply", address])
        #expect(atDefault.status == 0, "\(atDefault.stderr)")
        let rewritten = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: defaultPath))) as? [String: Any]
        #expect((rewritten?["scope"] as? [String: Any])?["backend"] as? String == "sim")
    }

    @Test("a second apply on a state file another apply holds fails at once, naming the holder; after it ends, apply works")
    func secondApplyRefused() async throws {
        defer { linx.cleanUp() }
        let address = try linx.write("a.yaml", "rtnl:\n  addresses:\n    - { interface: eth0, address: 10.9.0.1/24 }\n  routes: []\n")
        let other = try linx.write("b.yaml", "rtnl:\n  addresses:\n    - { interface: eth0, address: 10.9.2.1/24 }\n  routes: []\n")
        let state = linx.path("s.json")
        let watch = try linx.start(["apply", address, "--watch", "--interval", "3600", "--state", state, "--backend", "sim"])
        defer {
            watch.signal(SIGKILL)
            _ = watch.wait()
        }
        #expect(await waitFor(watch, toPrint: "watching", within: .seconds(60)), "\(watch.stderr)")

        let second = try linx.run(["apply", other, "--state", state, "--backend", "sim"])
        #expect(second.status == 1)
        #expect(second.stderr == "linx: state file \(state) is in use by another linx apply (pid \(watch.pid)) holding \(state).lock: wait for it to finish, or stop it (an apply --watch holds it until it exits)\n", "\(second.stderr)")
        #expect(second.stdout.isEmpty)

        watch.signal(SIGTERM)
        _ = watch.wait()
        let after = try linx.run(["apply", other, "--state", state, "--backend", "sim"])
        #expect(after.status == 0, "\(after.stderr)")
    }

    @Test("the temp file is never a planted symlink: the write goes elsewhere and the symlink's target is untouched")
    func plantedTemporarySymlink() throws {
        defer { linx.cleanUp() }
        let victim = try linx.write("victim", "precious\n")
        let target = linx.path("state.json")
        // The name the old writer used, and a name the writer will be made to draw first.
        let oldName = "\(target).tmp-\(getpid())"
        let drawn = linx.path(".state.json.tmp-planted")
        for name in [oldName, drawn] {
            #expect(symlink(victim, name) == 0)
        }
        var names = [drawn]
        try AtomicJSON.replace(target, with: Data("{}".utf8)) { path in
            names.isEmpty ? AtomicJSON.randomTemporaryName(for: path) : names.removeFirst()
        }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "{}")
        var info = stat()
        #expect(lstat(drawn, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK, "the planted symlink is someone else's: left as it was")
        #expect(lstat(target, &info) == 0 && info.st_mode & S_IFMT == S_IFREG && info.st_mode & 0o777 == 0o600)

        // Through the command: a symlink at the old name is not followed either.
        let state = linx.path("s.json")
        let file = try linx.example("container.yaml")
        let run = try linx.start(["apply", file, "--state", state, "--backend", "sim"])
        #expect(symlink(victim, "\(state).tmp-\(run.pid)") == 0 || errno == EEXIST)
        #expect(run.wait().status == 0)
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
    }

    @Test("a directory, a device, a FIFO or a missing file as the desired state gets one clear line, at once")
    func notARegularFile() throws {
        defer { linx.cleanUp() }
        let fifo = linx.path("fifo")
        #expect(mkfifo(fifo, 0o644) == 0)
        for (path, reason) in [
            (linx.directory.path, "is a directory, not a desired-state file"),
            ("/dev/zero", "is a device, not a regular file"),
            (fifo, "is a FIFO, not a regular file (a desired-state file is read whole before anything runs)"),
            (linx.path("missing.yaml"), "cannot read it (No such file or directory)"),
        ] {
            // timeout(1) bounds a read that would hang (a FIFO with no writer, /dev/zero).
            let result = Command.run(["timeout", "30", LinxBinary.executable.path, "plan", path, "--backend", "sim"])
            #expect(result.status == 1, "\(path): \(result.status) \(result.stderr)")
            #expect(result.stderr == "linx: \(path): document: \(reason)\n", "\(result.stderr)")
        }
        // A state file or a --sim-state host that is not a regular file is named as such too.
        let file = try linx.write("a.yaml", "rtnl:\n  addresses: []\n")
        let state = Command.run(["timeout", "30", LinxBinary.executable.path, "plan", file, "--backend", "sim", "--state", fifo])
        #expect(state.status == 0 || state.status == 2, "\(state.stderr)")
        #expect(state.stderr.contains("state file \(fifo) is unreadable or corrupt (is a FIFO (named pipe), not a regular file)"), "\(state.stderr)")
        let host = Command.run(["timeout", "30", LinxBinary.executable.path, "plan", file, "--backend", "sim", "--sim-state", "/dev/zero"])
        #expect(host.status == 1)
        #expect(host.stderr == "linx: cannot read the simulated host /dev/zero: is a device, not a regular file\n", "\(host.stderr)")
    }

    @Test("a parse error in a 100,000-deep nesting is one short line, not an echo of the input")
    func deepNesting() throws {
        defer { linx.cleanUp() }
        let file = try linx.write("deep.yaml", "rtnl:\n  routes: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n")
        let result = try linx.sim(["plan", file])
        #expect(result.status == 1)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.utf8.count < 400, "\(result.stderr.utf8.count) bytes: \(result.stderr.prefix(400))")
        #expect(result.stderr.hasPrefix("linx: \(file):2: "), "\(result.stderr.prefix(400))")
    }
}
