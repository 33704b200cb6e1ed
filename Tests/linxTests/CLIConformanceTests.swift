import Foundation
import Testing

/// `linx conformance` and `linx fuzz`, run as an operator (or CI) runs them.
@Suite("linx conformance and fuzz")
struct CLIConformanceTests {
    @Test("conformance prints a row per case and a summary, writes JUnit, and exits 0 when nothing failed")
    func conformance() throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        let junit = linx.path("results.xml")
        let result = try linx.run([
            "conformance", "--source", "cgroup", "--seed", "3", "--junit", junit, "--hint-timeout", "45",
        ])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("cgroup/sim  ownership/foreign-state-untouched"))
        #expect(result.stdout.contains("conformance: 1 subject, 17 cases: 15 passed, 0 failed, 2 skipped"))
        #expect(result.stdout.contains("(seed 3)"))
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        #expect(xml.contains("<testsuite name=\"cgroup/sim\" tests=\"17\" failures=\"0\" skipped=\"2\""))
    }

    @Test("a filter that is not a regular expression is refused before anything runs")
    func badFilter() throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        let result = try linx.run(["conformance", "--filter", "([unclosed"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("invalid filter \"([unclosed\""), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test("a hint timeout that is not a positive number of seconds is refused before anything runs", arguments: ["0", "-3", "nan", "soon"])
    func badHintTimeout(value: String) throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        let result = try linx.run(["conformance", "--source", "cgroup", "--hint-timeout", value])
        #expect(result.status != 0)
        #expect(result.stderr.contains("hint-timeout"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test("fuzz reports every fault kind, the determinism check and scenarios per second")
    func fuzz() throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        let result = try linx.run(["fuzz", "--source", "cgroup", "--scenarios", "60", "--seed", "9"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("faults fired: errno "))
        #expect(result.stdout.contains("reboot "))
        #expect(result.stdout.contains("determinism: 2 scenarios run twice, identical histories"))
        #expect(result.stdout.contains("fuzz cgroup/sim: 60 scenarios"))
        #expect(result.stdout.contains("scenarios/s), seed 9"))
    }

    @Test("fuzz --shard parts write JSON and JUnit, and fuzz merge adds them up to the whole campaign")
    func shardsAndMerge() throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        var files: [String] = []
        for k in 1...3 {
            let json = linx.path("part\(k).json")
            let junit = linx.path("part\(k).xml")
            let part = try linx.run([
                "fuzz", "--source", "cgroup", "--scenarios", "90", "--seed", "5", "--shard", "\(k)/3", "--json", json,
                "--junit", junit,
            ])
            #expect(part.status == 0, "\(part.stdout)\(part.stderr)")
            #expect(part.stdout.contains("fuzz cgroup/sim (shard \(k)/3): 30 scenarios"), "\(part.stdout)")
            #expect(try String(contentsOfFile: junit, encoding: .utf8).contains("<testsuite name=\"fuzz cgroup/sim\""))
            files.append(json)
        }
        let merged = try linx.run(["fuzz", "merge"] + files)
        #expect(merged.status == 0, "\(merged.stdout)\(merged.stderr)")
        #expect(merged.stdout.contains("fuzz cgroup/sim (3 shards merged): 90 scenarios"), "\(merged.stdout)")
        let partial = try linx.run(["fuzz", "merge", files[0], files[2]])
        #expect(partial.status != 0)
        #expect(partial.stdout.contains("incomplete: cgroup/sim lacks shard 2/3"), "\(partial.stdout)")
        let twice = try linx.run(["fuzz", "merge", files[0], files[0]])
        #expect(twice.status != 0)
        #expect(twice.stderr.contains("shard 1/3 is given twice"), "\(twice.stderr)")
        let bad = try linx.run(["fuzz", "--shard", "4/3"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("invalid shard \"4/3\""), "\(bad.stderr)")
    }

    @Test("fuzz replays one scenario, and refuses a scenario it cannot parse, naming the field")
    func replay() throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        let scenario = "seed=31,passes=16,changes=3,drifts=3,reboots=1,rate=12,kinds=errno"
        let ok = try linx.run(["fuzz", "--source", "cgroup", "--scenario", scenario])
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(ok.stdout.contains("\npass cgroup/sim scenario \(scenario)"))
        // Every replay prints its trace first.
        #expect(ok.stdout.hasPrefix("trace cgroup/sim scenario \(scenario)"))
        #expect(ok.stdout.contains("fault pass 1:\n  desired ("))
        #expect(ok.stdout.contains("  report: converged "))
        let bad = try linx.run(["fuzz", "--source", "cgroup", "--scenario", "seed=1,passes=x"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("passes must be an integer from 1 to 1000, not \"x\""), "\(bad.stderr)")
    }
}
