import HostsSourceExample
import LinxConformance
import LinxKernelSim
import Testing

/// A scenario is either one the fuzzer could have drawn (or shrunk to) and
/// within the limits, or it is refused, naming the field, before anything
/// runs: a hand-made or edited scenario can neither crash nor hang a replay.
@Suite("Fuzz scenario limits and strict parsing")
struct FuzzScenarioLimitsTests {
    static let valid = "seed=1,passes=2,changes=0,drifts=0,reboots=0,rate=10,kinds=errno"

    /// What the generator draws for each field, on every Source: the
    /// limits are far above it, and every drawn scenario is valid for its
    /// Source (shrinking only lowers fields, so shrunk ones are too).
    @Test("every drawn scenario is within the limits and valid for its Source", arguments: BuiltinSource.allCases)
    func drawnScenariosAreValid(source: BuiltinSource) throws {
        let kinds: Set<SimFaultKind> = switch source {
        case .rtnl: RtnlSimSubject().fuzzKinds
        case .sysctl: SysctlSimSubject().fuzzKinds
        case .cgroup: CgroupSimSubject().fuzzKinds
        case .nftables: NftablesSimSubject().fuzzKinds
        }
        for index in 0..<2000 {
            let scenario = FuzzScenario.draw(campaignSeed: 3, index: index, available: kinds)
            #expect((8...24).contains(scenario.faultPasses))
            #expect((0...3).contains(scenario.changes) && (0...3).contains(scenario.drifts))
            #expect((0...1).contains(scenario.reboots) && (2...12).contains(scenario.ratePercent))
            try source.validate(scenario)
            for smaller in scenario.shrinkCandidates { try source.validate(smaller) }
            #expect(try FuzzScenario(parsing: scenario.description) == scenario)
        }
    }

    @Test(
        "text that is not exactly the scenario form is refused, naming what is wrong",
        arguments: [
            ("", "missing seed, passes, changes, drifts, reboots, rate, kinds"),
            ("SEED=1,passes=2,changes=0,drifts=0,reboots=0,rate=10,kinds=errno", "unknown field \"SEED\""),
            (valid + ",extra=1", "unknown field \"extra\""),
            ("seed=1,seed=2,passes=2,changes=0,drifts=0,reboots=0,rate=10,kinds=errno", "seed is given twice"),
            ("seed=1,passes=2,changes=0,drifts=0,reboots=0,rate=10", "missing kinds"),
            ("seed=1,passes=2,changes=0,drifts=0,reboots=0,kinds=errno", "missing rate"),
            (valid + ",", "\"\" is not name=value"),
            ("seed=1,passes,changes=0,drifts=0,reboots=0,rate=10,kinds=errno", "\"passes\" is not name=value"),
            ("seed=-1,passes=2,changes=0,drifts=0,reboots=0,rate=10,kinds=errno", "seed must be an integer from 0 to 18446744073709551615, not \"-1\""),
            ("seed=1,passes=0,changes=0,drifts=0,reboots=0,rate=10,kinds=errno", "passes must be an integer from 1 to 1000, not \"0\""),
            ("seed=1,passes=9223372036854775807,changes=0,drifts=0,reboots=0,rate=10,kinds=errno",
             "passes must be an integer from 1 to 1000, not \"9223372036854775807\""),
            ("seed=1,passes=99999999999999999999,changes=0,drifts=0,reboots=0,rate=10,kinds=errno",
             "passes must be an integer from 1 to 1000, not \"99999999999999999999\""),
            ("seed=1,passes=2,changes=9223372036854775807,drifts=0,reboots=0,rate=10,kinds=errno",
             "changes must be an integer from 0 to 1000, not \"9223372036854775807\""),
            ("seed=1,passes=2,changes=0,drifts=1001,reboots=0,rate=10,kinds=errno", "drifts must be an integer from 0 to 1000, not \"1001\""),
            ("seed=1,passes=2,changes=0,drifts=0,reboots=-1,rate=10,kinds=errno", "reboots must be an integer from 0 to 1000, not \"-1\""),
            ("seed=1,passes=2,changes=0,drifts=0,reboots=0,rate=101,kinds=errno", "rate must be an integer from 0 to 100, not \"101\""),
            ("seed=1,passes=2,changes=0,drifts=0,reboots=0,rate=10,kinds=", "kinds is empty"),
            ("seed=1,passes=2,changes=0,drifts=0,reboots=0,rate=10,kinds=errno+errno", "fault kind errno is given twice in kinds"),
            ("seed=1,passes=2,changes=0,drifts=0,reboots=0,rate=10,kinds=errno+", "unknown fault kind \"\" in kinds"),
            ("seed=1,passes=2,changes=0,drifts=0,reboots=0,rate=10,kinds=none+errno", "unknown fault kind \"none\" in kinds"),
            ("seed=1,passes=2,changes=0,drifts=0,reboots=0,rate=10,kinds=drift", "drift cannot be in kinds: the scenario schedules it itself, through drifts=N"),
            ("seed=1,passes=2,changes=0,drifts=0,reboots=0,rate=10,kinds=reboot", "reboot cannot be in kinds"),
        ])
    func strictParsing(text: String, reason: String) {
        #expect {
            try FuzzScenario(parsing: text)
        } throws: { error in
            (error as? FuzzScenarioError)?.reason.hasPrefix(reason) == true
        }
    }

    @Test("the bounds are inclusive, and every field may come in any order")
    func boundsAccepted() throws {
        let high = try FuzzScenario(parsing: "kinds=none,rate=100,reboots=1000,drifts=1000,changes=1000,passes=1000,seed=18446744073709551615")
        #expect(high == FuzzScenario(
            seed: .max, faultPasses: 1000, changes: 1000, drifts: 1000, reboots: 1000, ratePercent: 100, kinds: []))
        let low = try FuzzScenario(parsing: "seed=0,passes=1,changes=0,drifts=0,reboots=0,rate=0,kinds=none")
        #expect(low.description == "seed=0,passes=1,changes=0,drifts=0,reboots=0,rate=0,kinds=none")
    }

    /// `Fuzz.replay` takes a ``FuzzScenario`` built in code: one outside the
    /// limits (it crashed the runner: an array of Int.max passes) or asking
    /// for faults the subject cannot fire is refused the same way.
    @Test("a replay refuses a scenario the text form would refuse, running nothing", arguments: [
        (FuzzScenario(seed: 1, faultPasses: .max, changes: 0, drifts: 0, reboots: 0, ratePercent: 10, kinds: [.errno]),
         "passes must be an integer from 1 to 1000, not \"9223372036854775807\""),
        (FuzzScenario(seed: 1, faultPasses: 0, changes: 1, drifts: 0, reboots: 0, ratePercent: 10, kinds: [.errno]),
         "passes must be an integer from 1 to 1000, not \"0\""),
        (FuzzScenario(seed: 1, faultPasses: -3, changes: 0, drifts: 0, reboots: 0, ratePercent: 10, kinds: [.errno]),
         "passes must be an integer from 1 to 1000, not \"-3\""),
        (FuzzScenario(seed: 1, faultPasses: 2, changes: .max, drifts: 0, reboots: 0, ratePercent: 10, kinds: [.errno]),
         "changes must be an integer from 0 to 1000"),
        (FuzzScenario(seed: 1, faultPasses: 2, changes: 0, drifts: -1, reboots: 0, ratePercent: 10, kinds: [.errno]),
         "drifts must be an integer from 0 to 1000, not \"-1\""),
        (FuzzScenario(seed: 1, faultPasses: 2, changes: 0, drifts: 0, reboots: 0, ratePercent: 500, kinds: [.errno]),
         "rate must be an integer from 0 to 100, not \"500\""),
        (FuzzScenario(seed: 1, faultPasses: 2, changes: 0, drifts: 0, reboots: 0, ratePercent: 10, kinds: [.overflow]),
         "hosts cannot fire overflow (kinds it can fire: errno)"),
        (FuzzScenario(seed: 1, faultPasses: 2, changes: 0, drifts: 0, reboots: 0, ratePercent: 10, kinds: [.reboot]),
         "reboot cannot be in kinds"),
        (FuzzScenario(seed: 1, faultPasses: 2, changes: 0, drifts: 0, reboots: 1, ratePercent: 10, kinds: [.errno]),
         "reboots must be 0: hosts cannot reboot"),
    ])
    func replayRefuses(scenario: FuzzScenario, reason: String) async throws {
        #expect(throws: FuzzScenarioError.self) { try scenario.validate(available: HostsSubject().fuzzKinds, subject: "hosts") }
        let outcome = await Fuzz.replay(HostsSubject(), scenario: scenario)
        let failure = try #require(outcome.failure)
        #expect(failure.message.contains(reason), "\(failure.message)")
        #expect(failure.message.hasSuffix("(nothing was run)"))
        #expect(outcome.passes == 0 && outcome.trace == nil && outcome.fired.isEmpty)
    }

    @Test("a Source refuses kinds it cannot fire")
    func builtinSourceRefusesKinds() throws {
        let overflow = try FuzzScenario(parsing: "seed=1,passes=2,changes=0,drifts=0,reboots=0,rate=10,kinds=overflow")
        #expect(throws: FuzzScenarioError.self) { try BuiltinSource.sysctl.validate(overflow) }
        try BuiltinSource.rtnl.validate(overflow)
    }
}
