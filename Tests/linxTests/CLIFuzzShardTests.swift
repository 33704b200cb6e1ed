import Foundation
import Testing

/// `linx fuzz --shard` and `linx fuzz merge` as a CI matrix drives them:
/// bounds on K/N, parts that pass alone, the merge deciding the whole
/// campaign's rules, and its messages about the parts and files it is given.
@Suite("linx fuzz shards and merge")
struct CLIFuzzShardTests {
    static let huge = "\(Int.max)"

    @Test(
        "a shard count above --scenarios, or past Int.max, is refused before anything runs or is written",
        arguments: [["--scenarios", "30", "--shard", "1/\(Int.max)"], ["--scenarios", "30", "--shard", "1/4294967296"],
                    ["--scenarios", "30", "--shard", "31/31"], ["--shard", "1/9223372036854775808"],
                    ["--scenarios", "1", "--shard", "1/2"]])
    func shardCountRefused(arguments: [String]) throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        let json = linx.path("part.json")
        let result = try linx.run(["fuzz", "--source", "sysctl", "--seed", "5", "--json", json] + arguments)
        #expect(result.status != 0)
        #expect(result.stderr.contains("invalid shard"), "\(result.stderr)")
        #expect(result.stderr.contains("must be at most"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: json))
    }

    /// Each part would draw its own random seed: parts of different
    /// campaigns, refused by the merge only after every part ran.
    @Test("a shard without --seed is refused before anything runs or is written")
    func shardNeedsSeed() throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        let json = linx.path("part.json")
        let result = try linx.run(["fuzz", "--source", "sysctl", "--scenarios", "30", "--shard", "1/3", "--json", json])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--shard 1/3 needs --seed"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: json))
    }

    @Test("a campaign of Int.max scenarios in Int.max shards runs one scenario per part, and merges without walking N")
    func hugeShardCount() throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        var files: [String] = []
        for k in ["1", Self.huge] {
            let json = linx.path("part\(k).json")
            let junit = linx.path("part\(k).xml")
            let part = try linx.run([
                "fuzz", "--source", "sysctl", "--seed", "5", "--scenarios", Self.huge, "--shard", "\(k)/\(Self.huge)",
                "--json", json, "--junit", junit,
            ])
            #expect(part.status == 0, "\(part.stdout)\(part.stderr)")
            #expect(part.stdout.contains("fuzz sysctl/sim (shard \(k)/\(Self.huge)): 1 scenarios"), "\(part.stdout)")
            #expect(part.stdout.contains("checked at merge, over all \(Self.huge) shards"), "\(part.stdout)")
            files.append(json)
        }
        let merged = try linx.run(["fuzz", "merge"] + files)
        #expect(merged.status == 1, "\(merged.stdout)\(merged.stderr)")
        #expect(merged.stdout.contains("(shards 1/\(Self.huge), \(Self.huge)/\(Self.huge)): 2 scenarios"), "\(merged.stdout)")
        #expect(
            merged.stdout.contains(
                "incomplete: sysctl/sim lacks \(Int.max - 2) shards: 2/\(Self.huge), 3/\(Self.huge), "),
            "\(merged.stdout)")
        #expect(merged.stdout.contains("11/\(Self.huge) and \(Int.max - 12) more\n"), "\(merged.stdout)")
    }

    @Test("small shards pass alone though some kind never fires in them; the merge of all equals the unsharded run")
    func smallShardsPassAlone() throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        var files: [String] = []
        var silentParts = 0
        for k in 1...30 {
            let json = linx.path("part\(k).json")
            let part = try linx.run([
                "fuzz", "--source", "sysctl", "--seed", "5", "--scenarios", "30", "--shard", "\(k)/30", "--json", json,
            ])
            #expect(part.status == 0, "\(part.stdout)\(part.stderr)")
            #expect(part.stdout.contains("(every kind must fire over the whole campaign: checked at merge, over all 30 shards)"))
            #expect(!part.stdout.contains("FAILED"), "\(part.stdout)")
            if part.stdout.contains("never fired in this part: ") { silentParts += 1 }
            files.append(json)
        }
        #expect(silentParts > 0, "the campaign no longer has a part in which some kind is silent: pick another seed")
        let merged = try linx.run(["fuzz", "merge"] + files)
        let whole = try linx.run(["fuzz", "--source", "sysctl", "--seed", "5", "--scenarios", "30"])
        #expect(merged.status == 0 && whole.status == 0, "\(merged.stdout)\(merged.stderr)\(whole.stdout)")
        func line(_ prefix: String, _ text: String) -> Substring? { text.split(separator: "\n").first { $0.hasPrefix(prefix) } }
        #expect(line("faults fired:", merged.stdout) != nil)
        #expect(line("faults fired:", merged.stdout) == line("faults fired:", whole.stdout))
        #expect(merged.stdout.contains("(30 shards merged): 30 scenarios, 536 passes, 0 failed"), "\(merged.stdout)")
        #expect(whole.stdout.contains("fuzz sysctl/sim: 30 scenarios, 536 passes, 0 failed"), "\(whole.stdout)")
    }

    @Test("the merge of every shard enforces \"every fault kind fired\", which each shard left to it")
    func mergeEnforcesEveryKind() throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        // Seed 2's two-scenario cgroup campaign never reboots.
        let whole = try linx.run(["fuzz", "--source", "cgroup", "--seed", "2", "--scenarios", "2"])
        #expect(whole.status == 1)
        #expect(whole.stdout.contains("never fired: reboot (a run that exercised nothing cannot pass)"), "\(whole.stdout)")
        var files: [String] = []
        for k in 1...2 {
            let json = linx.path("part\(k).json")
            let junit = linx.path("part\(k).xml")
            let part = try linx.run([
                "fuzz", "--source", "cgroup", "--seed", "2", "--scenarios", "2", "--shard", "\(k)/2", "--json", json,
                "--junit", junit,
            ])
            #expect(part.status == 0, "\(part.stdout)\(part.stderr)")
            #expect(part.stdout.contains("never fired in this part: reboot (every kind must fire over the whole campaign: "
                + "checked at merge, over all 2 shards)"), "\(part.stdout)")
            let xml = try String(contentsOfFile: junit, encoding: .utf8)
            #expect(xml.contains("<testsuite name=\"fuzz cgroup/sim\" tests=\"3\" failures=\"0\" skipped=\"1\""), "\(xml)")
            #expect(xml.contains("name=\"every fault kind fired (checked at merge)\">\n      <skipped message=\"every kind must "
                + "fire over the whole campaign: checked at merge, over all 2 shards; never fired here: reboot\"/>"), "\(xml)")
            files.append(json)
        }
        let junit = linx.path("merged.xml")
        let merged = try linx.run(["fuzz", "merge", "--junit", junit] + files)
        #expect(merged.status == 1)
        #expect(merged.stdout.contains("never fired: reboot (a run that exercised nothing cannot pass)"), "\(merged.stdout)")
        #expect(merged.stdout.contains("(2 shards merged): 2 scenarios"), "\(merged.stdout)")
        #expect(merged.stdout.hasSuffix(" FAILED\n"), "\(merged.stdout)")
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        #expect(xml.contains("<failure message=\"never fired: reboot\""), "\(xml)")
    }

    @Test("merge counts the parts it is given and names the shards they lack")
    func mergeMessages() throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        var files: [String] = []
        for k in 1...2 {
            let json = linx.path("part\(k).json")
            let part = try linx.run([
                "fuzz", "--source", "cgroup", "--seed", "5", "--scenarios", "30", "--shard", "\(k)/3", "--json", json,
            ])
            #expect(part.status == 0, "\(part.stdout)\(part.stderr)")
            files.append(json)
        }
        let partial = try linx.run(["fuzz", "merge"] + files)
        #expect(partial.status == 1)
        #expect(partial.stdout.contains("fuzz cgroup/sim (shards 1/3, 2/3): 20 scenarios"), "\(partial.stdout)")
        #expect(partial.stdout.contains("incomplete: cgroup/sim lacks shard 3/3\n"), "\(partial.stdout)")

        // A part that says it ran more than its shard holds is named by its file.
        let text = try String(contentsOfFile: files[1], encoding: .utf8)
        let forged = try linx.write(
            "forged.json", text.replacingOccurrences(of: "\"scenariosRun\" : 10", with: "\"scenariosRun\" : 200"))
        #expect(forged != files[1] && text.contains("\"scenariosRun\" : 10"))
        let refused = try linx.run(["fuzz", "merge", files[0], forged])
        #expect(refused.status == 2)
        #expect(refused.stdout.isEmpty)
        #expect(
            refused.stderr == "linx fuzz: \(forged): cgroup/sim: the 1 part given (shard 2/3; lacks 2 shards: 1/3, 3/3) "
                + "ran 200 scenarios, but that shard of the campaign's 30 (seed 5) has 10\n", "\(refused.stderr)")
    }

    @Test("merge says in plain words what is wrong with a file it cannot read")
    func mergeFileErrors() throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        try FileManager.default.createDirectory(atPath: linx.path("dir"), withIntermediateDirectories: false)
        let cases: [(file: String, expected: String)] = [
            (linx.path("missing.json"), "no such file"),
            (linx.path("dir"), "is a directory, not a `linx fuzz --json` result file"),
            (try linx.write("empty.json", ""), "is empty, not a `linx fuzz --json` result file"),
            (try linx.write("broken.json", "[{\"subject\": \"x\",\n  \"seed\": x}]"), "not valid JSON at line 2, column 11"),
            (try linx.write("object.json", "{\"subject\": \"x\"}"), "not a `linx fuzz --json` result file: the top level is not a list"),
            (try linx.write("shape.json", "[{\"subject\": \"x\"}]"), "not a `linx fuzz --json` result file: [0].seed is missing"),
        ]
        for (file, expected) in cases {
            let result = try linx.run(["fuzz", "merge", file])
            #expect(result.status == 2, "\(file)")
            #expect(result.stdout.isEmpty)
            #expect(result.stderr == "linx fuzz: \(file): \(expected)\n", "\(result.stderr)")
            #expect(!result.stderr.contains("Domain="), "\(result.stderr)")
        }
    }
}
