import LinxKernelSim
import LinxReconcile
import Testing

/// Seeded random scenarios on the toy Source: drift, hint bursts, monitor
/// deaths, failing passes and subscriptions, refused keys, new desired
/// states, forced passes and time jumps, in any order. Whatever happens, the
/// loop never overlaps passes, never loses ownership on a failed pass, always
/// settles, and converges once the faults stop.
@Suite("ReconcileLoop random scenarios", .timeLimit(.minutes(1)))
struct LoopScenarioTests {
    static let keys = ["a", "b", "c", "d", "e"]

    @Test("random scenarios settle and converge", arguments: 1...64 as ClosedRange<UInt64>)
    func scenario(seed: UInt64) async throws {
        var random = ScenarioRandom(seed: seed)
        let clock = VirtualClock()
        let kernel = ToyKernel(["foreign": 0])
        let interval: ReconcileLoopConfiguration.Interval = random.chance(0.3) ? .never : .every(.seconds(5))
        let configuration = toyConfiguration(
            interval: interval, monitor: random.chance(0.8), debounce: random.chance(0.3) ? .zero : .milliseconds(100))
        var desired = randomDesired(&random)
        let loop = makeToyLoop(kernel: kernel, desired: desired, configuration: configuration, clock: clock)
        try await withRunningLoop(loop) {
            await loop.settle(passes: 1)
            for _ in 0..<40 {
                let ownedBefore = await loop.lastApplied
                let passesBefore = await loop.probe.passesCompleted
                switch random.below(9) {
                case 0: kernel.drift(Self.keys[random.below(Self.keys.count)], to: random.chance(0.5) ? nil : random.below(9))
                case 1: kernel.hint(random.chance(0.2) ? .resyncNeeded : .changed, count: 1 + random.below(50))
                case 2: kernel.killMonitors(random.chance(0.5) ? CancellationError() : nil)
                case 3: kernel.failPasses(random.below(4))
                case 4: kernel.failSubscribes(random.below(3))
                case 5: kernel.refuse(random.chance(0.5) ? [] : [Self.keys[random.below(Self.keys.count)]])
                case 6:
                    desired = randomDesired(&random)
                    await loop.setDesired(desired)
                case 7: _ = try? await loop.reconcileNow()
                default: break
                }
                clock.advance(by: .milliseconds(Int64(random.below(6_000))))
                let probe = await Self.settle(loop, kernel)
                #expect(kernel.maxInFlight == 1, "seed \(seed): passes overlapped")
                // Only a report moves ownership; a pass that threw leaves it as it was.
                let owned = await loop.lastApplied
                #expect(owned == (await loop.lastReport?.lastApplied ?? []), "seed \(seed): ownership moved without a report")
                if probe.passesCompleted == passesBefore {
                    #expect(owned == ownedBefore, "seed \(seed): ownership moved without a pass")
                }
            }
            // The faults stop: within the backoff cap and one interval the loop converges.
            kernel.failPasses(0)
            kernel.failSubscribes(0)
            kernel.refuse([])
            for _ in 0..<3 {
                clock.advance(by: .seconds(30))
                await Self.settle(loop, kernel)
            }
            let report = await loop.lastReport
            #expect(report?.converged == true, "seed \(seed): not converged")
            let values = kernel.values
            for (key, value) in desired { #expect(values[key] == value, "seed \(seed): \(key)") }
            #expect(values["foreign"] == 0, "seed \(seed): a foreign key was touched")
            #expect(await loop.lastApplied == Set(desired.keys), "seed \(seed): ownership")
        }
    }

    /// Idle, with every hint and monitor end the toy kernel sent delivered:
    /// hints travel through a stream, so the loop cannot know of them earlier.
    @discardableResult
    static func settle(_ loop: ToyLoop, _ kernel: ToyKernel) async -> ReconcileLoopProbe {
        await loop.waitUntil {
            $0.isIdle && $0.hintsReceived >= kernel.hintsEnqueued && $0.monitorLosses >= kernel.monitorsEnded
        }
    }

    func randomDesired(_ random: inout ScenarioRandom) -> [String: Int] {
        var desired: [String: Int] = [:]
        for key in Self.keys where random.chance(0.6) { desired[key] = random.below(9) }
        return desired
    }
}

/// A small seeded generator for scenarios: the simulator's SplitMix64, with
/// the two draws the scenarios need.
struct ScenarioRandom {
    private var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < p }
}
