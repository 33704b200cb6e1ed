import Foundation
import LinxTestSupport
import Testing

/// `linx fuzz` refuses what it cannot do before it does anything, and puts
/// what it prints where a script can use it.
@Suite("linx fuzz inputs and outputs")
struct CLIFuzzInputOutputTests {
    static let scenario = "seed=31,passes=16,changes=3,drifts=3,reboots=1,rate=12,kinds=errno"

    @Test(
        "a --scenario that is not exactly the scenario form, or beyond the limits, is refused naming the field",
        arguments: [
            ("seed=1,passes=9223372036854775807,changes=0,drifts=0,reboots=0,rate=10,kinds=errno",
             "passes must be an integer from 1 to 1000, not \"9223372036854775807\""),
            ("seed=1,passes=100000000,changes=0,drifts=0,reboots=0,rate=10,kinds=errno",
             "passes must be an integer from 1 to 1000, not \"100000000\""),
            ("seed=1,passes=2,changes=9223372036854775807,drifts=0,reboots=0,rate=10,kinds=errno",
             "changes must be an integer from 0 to 1000, not \"9223372036854775807\""),
            ("seed=1,passes=0,changes=0,drifts=0,reboots=0,rate=10,kinds=errno", "passes must be an integer from 1 to 1000, not \"0\""),
            ("seed=1,passes=2,changes=0,drifts=0,reboots=0,rate=101,kinds=errno", "rate must be an integer from 0 to 100, not \"101\""),
            ("seed=1,passes=2,changes=0,drifts=0,reboots=0,rate=10,kinds=errno,extra=1", "unknown field \"extra\""),
            ("seed=1,seed=2,passes=2,changes=0,drifts=0,reboots=0,rate=10,kinds=errno", "seed is given twice"),
            ("seed=1,passes=2,changes=0,drifts=0,reboots=0,rate=10", "missing kinds"),
            ("", "missing seed, passes, changes, drifts, reboots, rate, kinds"),
            ("SEED=1,passes=2,changes=0,drifts=0,reboots=0,rate=10,kinds=errno", "unknown field \"SEED\""),
            ("seed=1,passes=2,changes=0,drifts=0,reboots=0,rate=10,kinds=overflow", "sysctl/sim cannot fire overflow (kinds it can fire: errno)"),
            ("seed=1,passes=x", "passes must be an integer from 1 to 1000, not \"x\""),
        ])
    func badScenario(text: String, reason: String) throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        let result = try linx.run(["fuzz", "--source", "sysctl", "--scenario", text])
        #expect(result.status != 0)
        #expect(result.stderr.contains(reason), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test(
        "options a replay would ignore are refused next to --scenario",
        arguments: [
            (["--seed", "3"], "--seed is for campaigns"),
            (["--scenarios", "4"], "--scenarios is for campaigns"),
            (["--seed", "3", "--scenarios", "4"], "--seed and --scenarios are for campaigns"),
            (["--parallel", "2"], "--parallel is for campaigns"),
            (["--trace-dir", "traces"], "--trace-dir is for campaigns"),
            (["--json", "out.json"], "--json is for campaigns"),
            (["--shard", "1/2"], "--shard is for campaigns"),
        ])
    func campaignOptionsWithScenario(options: [String], reason: String) throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        let result = try linx.run(["fuzz", "--source", "cgroup", "--scenario", Self.scenario] + options)
        #expect(result.status != 0)
        #expect(result.stderr.contains(reason), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: linx.path("out.json")))
    }

    @Test("--max-passes and --parallel are bounded", arguments: [
        (["--max-passes", "9223372036854775807"], "--max-passes must be from 1 to 1000, not 9223372036854775807"),
        (["--max-passes", "0"], "--max-passes must be from 1 to 1000, not 0"),
        (["--parallel", "100000000"], "--parallel must be from 1 to 1024, not 100000000"),
        (["--scenarios", "0"], "--scenarios must be at least 1, not 0"),
    ])
    func boundedCounts(options: [String], reason: String) throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        let result = try linx.run(["fuzz", "--source", "cgroup", "--seed", "1"] + options)
        #expect(result.status != 0)
        #expect(result.stderr.contains(reason), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    /// Each bad output is found before the campaign runs (nothing printed on
    /// standard output), in plain words, and no other output is written.
    /// `@NAME` is NAME in the test's scratch directory: DIR a directory,
    /// FILE a file, FIFO a named pipe (standing for a device: a write that
    /// replaced /dev/null with a file would break the machine).
    @Test(
        "every output path is checked before the campaign, and nothing is written when one is bad",
        arguments: [
            (["--json", "/proc/x.json"], "--json /proc/x.json: /proc does not take new files"),
            (["--json", "@DIR"], "--json @DIR: @DIR is a directory, not a file"),
            (["--json", "@ok.json", "--junit", "/proc/x.xml"], "--junit /proc/x.xml: /proc does not take new files"),
            (["--json", "@ok.json", "--trace-json", "@FILE/x.json"], "--trace-json @FILE/x.json: @FILE is not a directory"),
            (["--json", "@ok.json", "--junit", "@FIFO"], "--junit @FIFO: @FIFO is a FIFO (named pipe), not a regular file"),
            (["--json", "@ok.json", "--trace-dir", "/proc/foo"], "--trace-dir /proc/foo: /proc does not take new files"),
            (["--json", "@ok.json", "--trace-dir", "@FILE"], "--trace-dir @FILE: @FILE is not a directory"),
            (["--json", "@ok.json", "--trace-dir", "@FILE/below"], "--trace-dir @FILE/below: @FILE is not a directory"),
            (["--json", "@ok.json", "--junit", "@./ok.json"], "--json and --junit name the same file"),
            (["--json", "@ok.json", "--junit", ""], "--junit needs a path"),
            (["--json", "-", "--trace-json", "-"], "only one of --json and --trace-json can be - (standard output)"),
        ])
    func badOutputs(options: [String], reason: String) throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        try FileManager.default.createDirectory(atPath: linx.path("DIR"), withIntermediateDirectories: true)
        try linx.write("FILE", "not a directory\n")
        #expect(mkfifo(linx.path("FIFO"), 0o644) == 0)
        let scratch = linx.directory.path + "/"
        let result = try linx.run(
            ["fuzz", "--source", "cgroup", "--seed", "1", "--scenarios", "5"] + options.map { $0.replacingOccurrences(of: "@", with: scratch) })
        #expect(result.status != 0)
        #expect(result.stderr.contains(reason.replacingOccurrences(of: "@", with: scratch)), "\(result.stderr)")
        #expect(!result.stderr.contains("NSCocoaErrorDomain") && !result.stderr.contains("The file"))
        #expect(result.stdout.isEmpty, "the campaign ran: \(result.stdout)")
        #expect(!FileManager.default.fileExists(atPath: linx.path("ok.json")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: linx.path("DIR")).isEmpty)
    }

    @Test("--json - puts the JSON alone on standard output and the report on standard error; --help says so")
    func jsonToStandardOutput() throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        let result = try linx.run(["fuzz", "--source", "cgroup", "--seed", "9", "--scenarios", "20", "--json", "-"])
        #expect(result.status == 0, "\(result.stderr)")
        let parsed = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]
        #expect(parsed?.first?["subject"] as? String == "cgroup/sim")
        #expect(result.stderr.contains("fuzz cgroup/sim: 20 scenarios"), "\(result.stderr)")
        let junit = try linx.run(["fuzz", "--source", "cgroup", "--seed", "9", "--scenarios", "20", "--junit", "-"])
        #expect(junit.stdout.hasPrefix("<?xml"), "\(junit.stdout)")
        #expect(junit.stderr.contains("fuzz cgroup/sim: 20 scenarios"))
        let help = try linx.run(["fuzz", "run", "--help"])
        let words = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(words.contains("or '-' for standard output (one of them at most): the text report then goes to standard error"), "\(words)")
    }

    @Test("--trace-json - on a campaign gives the traces on standard output and the report, seed and rate on standard error")
    func traceJSONToStandardOutput() throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        let campaign = try linx.run(["fuzz", "--source", "cgroup", "--seed", "9", "--scenarios", "20", "--trace-json", "-"])
        #expect(campaign.status == 0, "\(campaign.stderr)")
        #expect(try JSONSerialization.jsonObject(with: Data(campaign.stdout.utf8)) is [Any])
        #expect(campaign.stderr.contains("scenarios/s), seed 9"), "\(campaign.stderr)")
        let replay = try linx.run(["fuzz", "--source", "cgroup", "--scenario", Self.scenario, "--trace-json", "-"])
        #expect(replay.status == 0, "\(replay.stderr)")
        let trace = try JSONSerialization.jsonObject(with: Data(replay.stdout.utf8)) as? [String: Any]
        #expect(trace?["scenario"] as? String == Self.scenario)
        #expect(replay.stderr.contains("pass cgroup/sim scenario \(Self.scenario)"), "\(replay.stderr)")
    }

    /// Interrupted before its end, a campaign with a random seed has said
    /// which seed it was: it is printed before the first scenario runs.
    @Test("a random campaign seed is printed on standard error as the campaign starts; a given one is not")
    func seedPrintedAtStart() async throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        let running = try linx.start(["fuzz", "--source", "rtnl", "--scenarios", "100000000"])
        let seen = await waitFor(running, toPrint: "(rerun this campaign with --seed ", within: .seconds(120))
        running.signal(SIGINT)
        let result = running.wait()
        #expect(seen, "\(result.stderr)")
        let line = try #require(result.stderr.split(separator: "\n").first { $0.hasPrefix("linx fuzz: campaign seed ") })
        let seed = try #require(UInt64(line.dropFirst("linx fuzz: campaign seed ".count).prefix { $0 != " " }))
        #expect(line == "linx fuzz: campaign seed \(seed) (rerun this campaign with --seed \(seed))")
        #expect(result.stdout.isEmpty)
        let given = try linx.run(["fuzz", "--source", "cgroup", "--seed", "9", "--scenarios", "5"])
        #expect(!given.stderr.contains("campaign seed"), "\(given.stderr)")
    }

    @Test("a replay's fault lines name the step and what fired, once")
    func faultLines() throws {
        let linx = try LinxBinary()
        defer { linx.cleanUp() }
        let result = try linx.run([
            "fuzz", "--source", "rtnl", "--scenario",
            "seed=11,passes=12,changes=0,drifts=2,reboots=1,rate=12,kinds=errno+overflow+eexistRace+vanish+interruptedDump+monitorDeath",
        ])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let faults = result.stdout.split(separator: "\n").filter { $0.hasPrefix("  fault: ") }
        #expect(!faults.isEmpty)
        #expect(faults.contains { $0.hasSuffix(" reboot") })
        for line in faults {
            #expect(!line.dropFirst("  fault: ".count).contains("fault") && !line.contains("->"), "\(line)")
        }
    }
}
