import LinxKernelSim
import Testing

@Suite("VirtualClock", .timeLimit(.minutes(1)))
struct LoopVirtualClockTests {
    @Test("a sleeper wakes exactly when virtual time reaches its deadline")
    func wakesAtDeadline() async throws {
        let clock = VirtualClock()
        let deadline = clock.now.advanced(by: .seconds(1))
        let sleeper = Task { try await clock.sleep(until: deadline) }
        await clock.sleepers(atLeast: 1)
        clock.advance(by: .milliseconds(999))
        #expect(clock.sleeperCount == 1)
        #expect(clock.nextDeadline == deadline)
        clock.advance(by: .milliseconds(1))
        try await sleeper.value
        #expect(clock.sleeperCount == 0)
        #expect(clock.now == deadline)
        #expect(clock.now.offset == .seconds(1))
    }

    @Test("a deadline already reached returns at once")
    func pastDeadline() async throws {
        let clock = VirtualClock(now: VirtualClock.Instant(offset: .seconds(10)))
        try await clock.sleep(until: VirtualClock.Instant(offset: .seconds(3)))
        try await clock.sleep(for: .zero)
        #expect(clock.sleeperCount == 0)
        #expect(clock.now.offset == .seconds(10))
    }

    @Test("cancelling a sleeper throws CancellationError and forgets it")
    func cancellation() async throws {
        let clock = VirtualClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(60)) }
        await clock.sleepers(atLeast: 1)
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
        #expect(clock.nextDeadline == nil)
    }

    @Test("an already-cancelled task does not sleep")
    func cancelledBeforeSleeping() async throws {
        let clock = VirtualClock()
        let sleeper = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await clock.sleep(for: .seconds(1))
        }
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test("advancing wakes only the sleepers that are due")
    func partialAdvance() async throws {
        let clock = VirtualClock()
        let early = Task { try await clock.sleep(for: .seconds(1)) }
        let late = Task { try await clock.sleep(for: .seconds(3)) }
        await clock.sleepers(atLeast: 2)
        clock.advance(to: VirtualClock.Instant(offset: .seconds(2)))
        try await early.value
        #expect(clock.sleeperCount == 1)
        #expect(clock.nextDeadline?.offset == .seconds(3))
        // Advancing to an earlier instant never moves time backwards.
        clock.advance(to: .zero)
        #expect(clock.now.offset == .seconds(2))
        clock.advance(by: .seconds(1))
        try await late.value
        #expect(clock.sleeperCount == 0)
    }

    @Test("instants measure durations between them")
    func instantArithmetic() {
        let a = VirtualClock.Instant(offset: .milliseconds(250))
        let b = a.advanced(by: .milliseconds(750))
        #expect(a.duration(to: b) == .milliseconds(750))
        #expect(b.offset == .seconds(1))
        #expect(a < b)
        #expect(VirtualClock().minimumResolution == .zero)
    }
}
