import Synchronization

/// A `Clock` whose time moves only when a test says so.
///
/// Everything in Linx that waits (the reconcile loop's timer, debounce and
/// backoff) takes an injected `Clock`; tests inject this one so that an hour
/// of loop behaviour runs in microseconds and the same steps always give the
/// same history. It never reads the wall clock.
///
/// `sleep(until:)` suspends until ``advance(by:)`` (or ``advance(to:)``) moves
/// `now` to or past the deadline, and throws `CancellationError` at once if
/// the sleeping task is cancelled. A deadline that is not in the future
/// returns immediately, so a sleeper that registers "late" is never lost.
///
/// Advancing jumps straight to the target instant: every sleeper whose
/// deadline is due is resumed (earliest deadline first) and sees the new
/// `now`. To observe several periodic ticks, advance one period at a time.
public final class VirtualClock: Clock, Sendable {
    /// A point in virtual time: a duration since the clock's origin.
    public struct Instant: InstantProtocol, Sendable, Hashable, Comparable, CustomStringConvertible {
        /// Time elapsed since the clock's origin (`.zero`).
        public var offset: Duration

        /// The instant `offset` after the origin.
        public init(offset: Duration) {
            self.offset = offset
        }

        /// The clock's origin.
        public static var zero: Instant { Instant(offset: .zero) }

        /// The instant `duration` later.
        public func advanced(by duration: Duration) -> Instant {
            Instant(offset: offset + duration)
        }

        /// The time from this instant to `other` (negative if `other` is earlier).
        public func duration(to other: Instant) -> Duration {
            other.offset - offset
        }

        /// Earlier instants order first.
        public static func < (lhs: Instant, rhs: Instant) -> Bool {
            lhs.offset < rhs.offset
        }

        /// `t+<offset>`, as test failures print it.
        public var description: String { "t+\(offset)" }
    }

    /// One pending `sleep`. Its state is only read or written under the clock's lock.
    private final class Sleeper: @unchecked Sendable {
        enum Phase {
            case registering
            case waiting(CheckedContinuation<Void, any Error>)
            case cancelledEarly
            case done
        }

        let id: UInt64
        let deadline: Instant
        var phase: Phase = .registering

        init(id: UInt64, deadline: Instant) {
            self.id = id
            self.deadline = deadline
        }
    }

    private struct State {
        var now: Instant
        var nextID: UInt64 = 0
        var sleepers: [UInt64: Sleeper] = [:]
        var sleeperWaiters: [(Int, CheckedContinuation<Void, Never>)] = []

        /// Takes the waiters satisfied by the current number of sleepers.
        mutating func satisfiedWaiters() -> [CheckedContinuation<Void, Never>] {
            let count = sleepers.count
            let ready = sleeperWaiters.filter { $0.0 <= count }.map(\.1)
            sleeperWaiters.removeAll { $0.0 <= count }
            return ready
        }
    }

    private let state: Mutex<State>

    /// A clock standing at `now` (the origin by default).
    public init(now: Instant = .zero) {
        state = Mutex(State(now: now))
    }

    /// The current virtual instant.
    public var now: Instant { state.withLock { $0.now } }

    /// Virtual time has no granularity.
    public var minimumResolution: Duration { .zero }

    /// How many tasks are currently suspended in `sleep`.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline any sleeper waits for, or nil when none sleeps.
    public var nextDeadline: Instant? {
        state.withLock { $0.sleepers.values.map(\.deadline).min() }
    }

    /// Suspends until at least `count` tasks are sleeping on this clock: a
    /// test's way to know that the code under test has reached its wait.
    public func sleepers(atLeast count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if s.sleepers.count >= count { return true }
                s.sleeperWaiters.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Suspends until virtual time reaches `deadline`.
    ///
    /// - Throws: `CancellationError` if the task is (or becomes) cancelled first.
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        let sleeper = state.withLock { s -> Sleeper in
            s.nextID += 1
            return Sleeper(id: s.nextID, deadline: deadline)
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Outcome { case wait([CheckedContinuation<Void, Never>]), due, cancelled }
                let outcome = state.withLock { s -> Outcome in
                    if case .cancelledEarly = sleeper.phase {
                        sleeper.phase = .done
                        return .cancelled
                    }
                    if deadline <= s.now {
                        sleeper.phase = .done
                        return .due
                    }
                    sleeper.phase = .waiting(continuation)
                    s.sleepers[sleeper.id] = sleeper
                    return .wait(s.satisfiedWaiters())
                }
                switch outcome {
                case .wait(let waiters): for waiter in waiters { waiter.resume() }
                case .due: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let continuation = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                switch sleeper.phase {
                case .registering:
                    sleeper.phase = .cancelledEarly
                    return nil
                case .waiting(let continuation):
                    sleeper.phase = .done
                    s.sleepers[sleeper.id] = nil
                    return continuation
                case .cancelledEarly, .done:
                    return nil
                }
            }
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// Moves virtual time forward by `duration` and resumes every sleeper
    /// whose deadline is now due.
    public func advance(by duration: Duration) {
        precondition(duration >= .zero, "VirtualClock cannot go backwards (advance(by: \(duration)))")
        // The target is computed under the same lock that moves time, so two
        // concurrent `advance(by:)` calls add up instead of racing.
        advance { $0.advanced(by: duration) }
    }

    /// Moves virtual time forward to `instant` (never backwards) and resumes
    /// every sleeper whose deadline is now due, earliest deadline first.
    public func advance(to instant: Instant) {
        advance { _ in instant }
    }

    private func advance(_ target: (Instant) -> Instant) {
        let due = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            let instant = target(s.now)
            if instant > s.now { s.now = instant }
            let ready = s.sleepers.values
                .filter { $0.deadline <= s.now }
                .sorted { ($0.deadline, $0.id) < ($1.deadline, $1.id) }
            var continuations: [CheckedContinuation<Void, any Error>] = []
            for sleeper in ready {
                s.sleepers[sleeper.id] = nil
                if case .waiting(let continuation) = sleeper.phase {
                    continuations.append(continuation)
                }
                sleeper.phase = .done
            }
            return continuations
        }
        // Resumed outside the lock: a resumed task may call back into the clock.
        for continuation in due { continuation.resume() }
    }
}
