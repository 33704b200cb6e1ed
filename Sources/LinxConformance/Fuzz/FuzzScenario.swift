import LinxKernelSim

/// One fuzzing scenario: everything random in it derives from `seed`; the
/// other fields say how much of each ingredient it has, so a failing
/// scenario can be shrunk by lowering them and replayed from its text form
/// (`seed=12,passes=20,changes=2,drifts=1,reboots=0,rate=6,kinds=errno+vanish`).
public struct FuzzScenario: Sendable, Hashable, CustomStringConvertible {
    /// Drives the kernel, the desired states, foreign state and event timing.
    public var seed: UInt64
    /// Passes in the fault phase.
    public var faultPasses: Int
    /// Desired-state changes during the fault phase.
    public var changes: Int
    /// Foreign-writer drifts during the fault phase.
    public var drifts: Int
    /// Reboots during the fault phase.
    public var reboots: Int
    /// Chance, in percent, that a backend operation triggers a planned fault.
    public var ratePercent: Int
    /// The kinds the kernel's fault plan may fire (drift and reboot are
    /// scheduled by the scenario itself, through `drifts` and `reboots`).
    public var kinds: Set<SimFaultKind>

    public init(
        seed: UInt64, faultPasses: Int, changes: Int, drifts: Int, reboots: Int, ratePercent: Int,
        kinds: Set<SimFaultKind>
    ) {
        self.seed = seed
        self.faultPasses = faultPasses
        self.changes = changes
        self.drifts = drifts
        self.reboots = reboots
        self.ratePercent = ratePercent
        self.kinds = kinds
    }

    /// The kinds a kernel fault plan fires; drift and reboot are scheduled instead.
    public static let planKinds: Set<SimFaultKind> = Set(SimFaultKind.allCases).subtracting([.drift, .reboot])

    /// The `index`th scenario of a campaign seeded with `campaignSeed`, for a
    /// Source whose faults are `available`.
    public static func draw(campaignSeed: UInt64, index: Int, available: Set<SimFaultKind>) -> FuzzScenario {
        let seed = seed(campaignSeed: campaignSeed, index: index)
        var random = SimRandom(seed: seed ^ 0x5CE7_A210)
        let candidates = available.intersection(planKinds).sorted()
        var kinds = Set(candidates.filter { _ in random.chance(0.6) })
        if kinds.isEmpty, let any = candidates.randomElement(using: &random) { kinds.insert(any) }
        return FuzzScenario(
            seed: seed,
            faultPasses: random.int(in: 8...24),
            changes: random.int(in: 0...3),
            drifts: available.contains(.drift) ? random.int(in: 0...3) : 0,
            reboots: available.contains(.reboot) && random.chance(0.25) ? 1 : 0,
            ratePercent: random.int(in: 2...12),
            kinds: kinds)
    }

    /// The seed of a campaign's `index`th scenario: it depends on nothing
    /// else, so a shard of the campaign runs the very same scenarios.
    public static func seed(campaignSeed: UInt64, index: Int) -> UInt64 {
        var mixer = SplitMix64(seed: campaignSeed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        return mixer.next()
    }

    /// Smaller variants, most aggressive first, for shrinking a failure.
    public var shrinkCandidates: [FuzzScenario] {
        var out: [FuzzScenario] = []
        func with(_ change: (inout FuzzScenario) -> Void) {
            var copy = self
            change(&copy)
            if copy != self { out.append(copy) }
        }
        if faultPasses > 1 { with { $0.faultPasses = max(1, $0.faultPasses / 2) } }
        if faultPasses > 1 { with { $0.faultPasses -= 1 } }
        if changes > 0 { with { $0.changes -= 1 } }
        if drifts > 0 { with { $0.drifts -= 1 } }
        if reboots > 0 { with { $0.reboots -= 1 } }
        for kind in kinds.sorted() { with { $0.kinds.remove(kind) } }
        if ratePercent > 1 { with { $0.ratePercent = max(1, $0.ratePercent / 2) } }
        return out
    }

    /// A rough size, to say how much shrinking achieved.
    public var weight: Int { faultPasses + 4 * (changes + drifts + reboots + kinds.count) + ratePercent }

    public var description: String {
        "seed=\(seed),passes=\(faultPasses),changes=\(changes),drifts=\(drifts),reboots=\(reboots),"
            + "rate=\(ratePercent),kinds=\(kinds.isEmpty ? "none" : kinds.sorted().map(\.rawValue).joined(separator: "+"))"
    }

    /// Parses the text form `description` prints. Errors name the bad field.
    public init(parsing text: String) throws(FuzzScenarioError) {
        var fields: [String: String] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw FuzzScenarioError(text: text, reason: "\"\(part)\" is not name=value") }
            fields[pair[0].trimmingSpaces] = pair[1].trimmingSpaces
        }
        func int(_ name: String) throws(FuzzScenarioError) -> Int {
            guard let value = fields[name].flatMap({ Int($0) }), value >= 0 else {
                throw FuzzScenarioError(text: text, reason: "\(name) must be a non-negative integer")
            }
            return value
        }
        guard let seed = fields["seed"].flatMap({ UInt64($0) }) else {
            throw FuzzScenarioError(text: text, reason: "seed must be an unsigned integer")
        }
        var kinds = Set<SimFaultKind>()
        if let list = fields["kinds"], list != "none" {
            for name in list.split(separator: "+") {
                guard let kind = SimFaultKind(rawValue: String(name)) else {
                    throw FuzzScenarioError(
                        text: text,
                        reason: "unknown fault kind \"\(name)\" (known: \(SimFaultKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                kinds.insert(kind)
            }
        }
        self.init(
            seed: seed, faultPasses: max(1, try int("passes")), changes: try int("changes"), drifts: try int("drifts"),
            reboots: try int("reboots"), ratePercent: try int("rate"), kinds: kinds)
    }
}

/// A `--scenario` text that does not parse.
public struct FuzzScenarioError: Error, Sendable, CustomStringConvertible {
    public var text: String
    public var reason: String

    public var description: String { "invalid scenario \"\(text)\": \(reason)" }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
