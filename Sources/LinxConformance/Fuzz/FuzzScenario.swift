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

    /// The text form: `seed=12,passes=20,changes=2,drifts=1,reboots=0,rate=6,kinds=errno+vanish`.
    public var description: String {
        "seed=\(seed),passes=\(faultPasses),changes=\(changes),drifts=\(drifts),reboots=\(reboots),"
            + "rate=\(ratePercent),kinds=\(kinds.isEmpty ? "none" : kinds.sorted().map(\.rawValue).joined(separator: "+"))"
    }

    /// The fault passes a scenario may have. The generator draws 8 to 24 and
    /// shrinking only lowers them; the limit leaves room for hand-made
    /// scenarios while keeping a traced replay (whose cost grows with the
    /// square of the passes) under a few seconds.
    public static let passRange = 1...1000
    /// The desired-state changes, drifts or reboots a scenario may have,
    /// each (the generator draws at most 3).
    public static let eventRange = 0...1000
    /// The fault rate, in percent.
    public static let rateRange = 0...100

    /// Throws unless every count is within its range (``passRange``,
    /// ``eventRange``, ``rateRange``) and ``kinds`` holds only
    /// ``planKinds``. Given `available` (a subject's
    /// ``FuzzableSubject/fuzzKinds``), also unless the scenario asks only
    /// for what that subject can do: kinds it can fire, drifts only when it
    /// drifts, reboots only when it reboots. ``FuzzRunner`` runs nothing of
    /// a scenario that fails this, so a hand-made scenario cannot exhaust
    /// memory or pass by asking for faults that never fire.
    public func validate(available: Set<SimFaultKind>? = nil, subject: String = "the subject") throws(FuzzScenarioError) {
        if let reason = problem(available: available, subject: subject) {
            throw FuzzScenarioError(text: description, reason: reason)
        }
    }

    /// What ``validate(available:subject:)`` refuses, in words.
    private func problem(available: Set<SimFaultKind>?, subject: String) -> String? {
        for (name, value, range) in [
            ("passes", faultPasses, Self.passRange), ("changes", changes, Self.eventRange),
            ("drifts", drifts, Self.eventRange), ("reboots", reboots, Self.eventRange), ("rate", ratePercent, Self.rateRange),
        ] where !range.contains(value) {
            return Self.outOfRange(name, "\(value)", range)
        }
        if let kind = kinds.subtracting(Self.planKinds).sorted().first {
            return "\(kind.rawValue) cannot be in kinds: the scenario schedules it itself, through \(kind.rawValue)s=N"
        }
        guard let available else { return nil }
        if let kind = kinds.subtracting(available).sorted().first {
            let can = available.intersection(Self.planKinds).sorted().map(\.rawValue)
            return "\(subject) cannot fire \(kind.rawValue) (kinds it can fire: \(can.isEmpty ? "none" : can.joined(separator: ", ")))"
        }
        if drifts > 0, !available.contains(.drift) { return "drifts must be 0: \(subject) has no drift" }
        if reboots > 0, !available.contains(.reboot) { return "reboots must be 0: \(subject) cannot reboot" }
        return nil
    }

    private static func outOfRange(_ name: String, _ value: String, _ range: ClosedRange<Int>) -> String {
        "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound), not \"\(value)\""
    }

    /// The fields of the text form, in the order `description` prints them.
    public static let fields = ["seed", "passes", "changes", "drifts", "reboots", "rate", "kinds"]

    /// Parses the text form `description` prints: every field exactly once,
    /// in any order, and nothing else. Errors name the bad field and its
    /// value, and for a count its range; the scenario must be within
    /// the limits of ``validate(available:subject:)``.
    public init(parsing text: String) throws(FuzzScenarioError) {
        func refuse(_ reason: String) -> FuzzScenarioError { FuzzScenarioError(text: text, reason: reason) }
        var values: [String: String] = [:]
        if !text.allSatisfy({ $0 == " " }) {
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard pair.count == 2, !pair[0].trimmingSpaces.isEmpty else {
                    throw refuse("\"\(part)\" is not name=value")
                }
                let name = pair[0].trimmingSpaces
                guard Self.fields.contains(name) else {
                    throw refuse("unknown field \"\(name)\" (the fields are \(Self.fields.joined(separator: ", ")))")
                }
                guard values[name] == nil else { throw refuse("\(name) is given twice") }
                values[name] = pair[1].trimmingSpaces
            }
        }
        func count(_ name: String, _ range: ClosedRange<Int>) throws(FuzzScenarioError) -> Int? {
            guard let text = values[name] else { return nil }
            guard let number = Int(text), range.contains(number) else { throw refuse(Self.outOfRange(name, text, range)) }
            return number
        }
        // The values given are checked before the fields missing, so a
        // half-typed scenario is told first what is wrong in what it has.
        var seed: UInt64?
        if let text = values["seed"] {
            guard let number = UInt64(text) else {
                throw refuse("seed must be an integer from 0 to \(UInt64.max), not \"\(text)\"")
            }
            seed = number
        }
        let passes = try count("passes", Self.passRange), changes = try count("changes", Self.eventRange)
        let drifts = try count("drifts", Self.eventRange), reboots = try count("reboots", Self.eventRange)
        let rate = try count("rate", Self.rateRange)
        let kinds = try values["kinds"].map { list throws(FuzzScenarioError) in try Self.kinds(list, in: text) }
        guard let seed, let passes, let changes, let drifts, let reboots, let rate, let kinds else {
            let missing = Self.fields.filter { values[$0] == nil }
            throw refuse("missing \(missing.joined(separator: ", ")) (expected \(Self.fields.map { "\($0)=..." }.joined(separator: ",")))")
        }
        self.init(
            seed: seed, faultPasses: passes, changes: changes, drifts: drifts, reboots: reboots, ratePercent: rate,
            kinds: kinds)
        if let reason = problem(available: nil, subject: "") { throw refuse(reason) }
    }

    /// The `kinds` field: `none`, or fault kinds joined by `+`, each once.
    private static func kinds(_ list: String, in text: String) throws(FuzzScenarioError) -> Set<SimFaultKind> {
        func refuse(_ reason: String) -> FuzzScenarioError { FuzzScenarioError(text: text, reason: reason) }
        if list == "none" { return [] }
        let known = planKinds.sorted().map(\.rawValue).joined(separator: ", ")
        guard !list.isEmpty else { throw refuse("kinds is empty (give none, or kinds joined by +: \(known))") }
        var kinds = Set<SimFaultKind>()
        for name in list.split(separator: "+", omittingEmptySubsequences: false).map(String.init) {
            guard let kind = SimFaultKind(rawValue: name) else {
                throw refuse("unknown fault kind \"\(name)\" in kinds (known: \(known); or kinds=none)")
            }
            guard kinds.insert(kind).inserted else { throw refuse("fault kind \(name) is given twice in kinds") }
        }
        return kinds
    }
}

/// A scenario refused: text that does not parse (`--scenario`), or a
/// scenario outside the limits of ``FuzzScenario/validate(available:subject:)``.
public struct FuzzScenarioError: Error, Sendable, CustomStringConvertible {
    /// The scenario as given (its text form when it was built in code).
    public var text: String
    /// What is wrong with it, naming the field.
    public var reason: String

    /// `invalid scenario "seed=1,...": passes must be an integer from 1 to 1000, not "0"`.
    public var description: String { "invalid scenario \"\(text)\": \(reason)" }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
