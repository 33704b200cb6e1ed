import Foundation
import LinxConformance
import LinxKernelSim
import Testing

/// Shards at the edges: counts up to `Int.max` handled without walking
/// them, the "every fault kind fired" rule left to the merge of a whole
/// campaign, and merged input that no run could have written refused.
@Suite("Fuzz shard bounds and the merge's checks")
struct FuzzShardBoundsTests {
    @Test("a shard's scenario count is its indices' count, found without walking them, up to Int.max")
    func scenarioCount() throws {
        for scenarios in 1...12 {
            for count in 1...scenarios {
                for index in 1...count {
                    let shard = try FuzzShard(index, of: count)
                    #expect(shard.scenarioCount(of: scenarios) == Array(shard.indices(of: scenarios)).count)
                    try shard.check(scenarios: scenarios)
                }
            }
        }
        let last = try FuzzShard(Int.max, of: Int.max)
        #expect(last.scenarioCount(of: Int.max) == 1)
        #expect(Array(last.indices(of: Int.max)) == [Int.max - 1])
        #expect(try FuzzShard(1, of: 2).scenarioCount(of: Int.max) == Int.max / 2 + 1)
        #expect(throws: FuzzShardError.self) { try FuzzShard(1, of: 31).check(scenarios: 30) }
        #expect(throws: FuzzShardError.self) { try FuzzShard(1, of: Int.max).check(scenarios: 30) }
        let error = try #require(throws: FuzzShardError.self) { try FuzzShard(parsing: "1/99999999999999999999") }
        #expect(error.description == "invalid shard \"1/99999999999999999999\": K and N must be at most \(Int.max)")
        #expect(throws: FuzzShardError.self) { try FuzzShard(parsing: "-1/4") }
        #expect(throws: FuzzShardError.self) { try FuzzShard(parsing: "1/") }
    }

    @Test("a shard decoded from a file is checked like one parsed from the command line")
    func decodedShardChecked() throws {
        let good = try JSONDecoder().decode(FuzzShard.self, from: Data(#"{"index": 3, "count": 4}"#.utf8))
        #expect(good == (try FuzzShard(3, of: 4)))
        for bad in [#"{"index": 0, "count": 4}"#, #"{"index": 5, "count": 4}"#, #"{"index": 1, "count": -2}"#] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(FuzzShard.self, from: Data(bad.utf8)) }
        }
    }

    @Test("one part of Int.max shards renders, knows it is not the whole campaign and names what it lacks, at once")
    func hugeShardCount() async throws {
        let part = FuzzSummary(await FuzzCampaign.run(
            CgroupSimSubject(),
            options: FuzzOptions(seed: 5, scenarios: Int.max, determinismChecks: 0, shard: try FuzzShard(1, of: Int.max))))
        #expect(part.scenariosRun == 1)
        #expect(!part.isWholeCampaign)
        let missing = part.missingShards(limit: 3)
        #expect(missing.total == Int.max - 1)
        #expect(missing.first == [try FuzzShard(2, of: Int.max), try FuzzShard(3, of: Int.max), try FuzzShard(4, of: Int.max)])
        #expect(part.missingText.hasPrefix("lacks \(Int.max - 1) shards: 2/\(Int.max), 3/\(Int.max), "))
        #expect(FuzzReporter.render(part).contains("(shard 1/\(Int.max)): 1 scenarios"))
        let merged = try FuzzSummary.merge([part])
        #expect(merged.count == 1 && !merged[0].isWholeCampaign)
        // A forged time renders as a number instead of trapping on Int conversion.
        var forged = part
        forged.seconds = 1e-300
        #expect(FuzzReporter.render(forged).contains("e+299 scenarios/s"))
        forged.seconds = 1e300
        #expect(FuzzReporter.render(forged).contains("in 1e+300 s"))
    }

    @Test("gaps between the shards given are named in order, however they fall")
    func missingShards() async throws {
        var part = FuzzSummary(await FuzzCampaign.run(
            CgroupSimSubject(), options: FuzzOptions(seed: 5, scenarios: 9, determinismChecks: 0, shard: try FuzzShard(2, of: 9))))
        part.shards = try [2, 3, 7, 9].map { try FuzzShard($0, of: 9) }
        #expect(part.missingShards(limit: 10).first.map(\.index) == [1, 4, 5, 6, 8])
        #expect(part.missingShards(limit: 2).first.map(\.index) == [1, 4])
        #expect(part.missingShards(limit: 2).total == 5)
        part.shards = try (1...9).map { try FuzzShard($0, of: 9) }
        #expect(part.isWholeCampaign && part.missingShards(limit: 10).total == 0)
    }

    @Test("a shard in which a kind never fired succeeds; the merge of every shard fails on it, as the whole campaign does")
    func everyKindIsTheWholeCampaignsRule() async throws {
        // Seed 2's two-scenario cgroup campaign never reboots.
        let whole = await FuzzCampaign.run(CgroupSimSubject(), options: FuzzOptions(seed: 2, scenarios: 2))
        #expect(whole.silentKinds == [.reboot] && !whole.succeeded)
        var parts: [FuzzResults] = []
        for k in 1...2 {
            let part = await FuzzCampaign.run(
                CgroupSimSubject(), options: FuzzOptions(seed: 2, scenarios: 2, shard: try FuzzShard(k, of: 2)))
            #expect(part.silentKinds.contains(.reboot))
            #expect(part.succeeded)
            #expect(FuzzSummary(part).succeeded && !FuzzSummary(part).checksEveryKind)
            #expect(FuzzReporter.render(FuzzSummary(part)).contains("checked at merge, over all 2 shards"))
            parts.append(part)
        }
        let partial = try FuzzSummary.merge([FuzzSummary(parts[0])])
        #expect(partial[0].succeeded)
        let merged = try FuzzSummary.merge(parts.map { FuzzSummary($0) })
        #expect(merged[0].checksEveryKind && merged[0].silentKinds == ["reboot"] && !merged[0].succeeded)
        await #expect(throws: FuzzCheckFailure.self) { try await Fuzz.check(CgroupSimSubject(), options: FuzzOptions(seed: 2, scenarios: 2)) }
    }

    @Test("the merge refuses parts no run could have written, and counts the parts it was given")
    func mergeRefusesForgedParts() async throws {
        var parts: [FuzzSummary] = []
        for k in 1...2 {
            parts.append(FuzzSummary(await FuzzCampaign.run(
                CgroupSimSubject(), options: FuzzOptions(seed: 5, scenarios: 30, determinismChecks: 0, shard: try FuzzShard(k, of: 3)))))
        }
        func refusal(_ parts: [FuzzSummary]) throws -> String {
            try #require(throws: FuzzMergeError.self) { try FuzzSummary.merge(parts) }.description
        }
        var more = parts[1]
        more.scenariosRun += 1
        #expect(
            try refusal([parts[0], more])
                == "cgroup/sim: the 2 parts given (shards 1/3, 2/3; lacks shard 3/3) ran 21 scenarios, but those shards of the "
                + "campaign's 30 (seed 5) have 20")
        var other = parts[1]
        other.digest &+= 1
        #expect(try refusal([parts[0], other]).hasSuffix("did not run the scenarios of those shards of the campaign (seed 5): the scenario digests differ"))
        var none = parts[0]
        none.shards = []
        #expect(try refusal([none]) == "cgroup/sim: a part that names no shard")
        var tooMany = parts[0]
        tooMany.shards = [try FuzzShard(1, of: 31)]
        #expect(try refusal([tooMany]).contains("N (31) must be at most the campaign's scenarios (30)"))
        var negative = parts[0]
        negative.passes = -1
        #expect(try refusal([negative]) == "cgroup/sim: passes -1 (a count, at least 0)")
        var huge = parts[0]
        huge.passes = Int.max
        #expect(try refusal([huge, parts[1]]) == "cgroup/sim: the parts' passes add up past \(Int.max)")
        var mixed = parts[0]
        mixed.shards = [try FuzzShard(1, of: 3), try FuzzShard(2, of: 4)]
        #expect(try refusal([mixed]).contains("a part with shards of different counts (1/3 and 2/4)"))
    }
}
