@testable import LinxReconcile
import LinxKernelSim
import Testing

@Suite("Loop schedule and backoff")
struct LoopScheduleTests {
    typealias Instant = VirtualClock.Instant

    func at(_ ms: Int) -> Instant { Instant(offset: .milliseconds(ms)) }

    @Test("a fresh schedule wants a pass at once")
    func startsImmediately() {
        let schedule = PassSchedule<Instant>()
        #expect(schedule.isDue(at: at(0)))
        #expect(schedule.nextDue(now: at(0)) == at(0))
    }

    @Test("after a converged pass the next one is one interval later")
    func tick() {
        var schedule = PassSchedule<Instant>()
        schedule.passStarted()
        schedule.passSucceeded(at: at(10), period: .seconds(5))
        #expect(schedule.nextDue(now: at(10)) == at(5_010))
        #expect(!schedule.isDue(at: at(5_009)))
        #expect(schedule.isDue(at: at(5_010)))
    }

    @Test("with no timer and no hint, nothing is due")
    func noTimer() {
        var schedule = PassSchedule<Instant>()
        schedule.passStarted()
        schedule.passSucceeded(at: at(0), period: nil)
        #expect(schedule.nextDue(now: at(0)) == nil)
        #expect(!schedule.isDue(at: at(1_000_000)))
    }

    @Test("the first hint opens the debounce window, later ones do not extend it")
    func debounce() {
        var schedule = PassSchedule<Instant>()
        schedule.passStarted()
        schedule.passSucceeded(at: at(0), period: .seconds(5))
        schedule.noteChange(at: at(1_000), debounce: .milliseconds(100))
        schedule.noteChange(at: at(1_050), debounce: .milliseconds(100))
        #expect(schedule.nextDue(now: at(1_050)) == at(1_100))
        // A pass consumes the window; a change during the pass opens a new one.
        schedule.passStarted()
        #expect(schedule.nextDue(now: at(1_100)) == at(5_000))
        schedule.noteChange(at: at(1_120), debounce: .milliseconds(100))
        schedule.passSucceeded(at: at(1_150), period: .seconds(5))
        #expect(schedule.nextDue(now: at(1_150)) == at(1_220))
    }

    @Test("after a failure the retry deadline replaces the timer; a change or an immediate request still counts")
    func retry() {
        var schedule = PassSchedule<Instant>()
        schedule.passStarted()
        schedule.passFailed(at: at(0), period: .seconds(1), delay: .seconds(2))
        #expect(schedule.failures == 1)
        // The 1 s tick does not fire before the 2 s retry.
        #expect(!schedule.isDue(at: at(1_999)))
        #expect(schedule.isDue(at: at(2_000)))
        // A change asked for during the backoff runs after its debounce.
        schedule.noteChange(at: at(10), debounce: .milliseconds(100))
        #expect(schedule.nextDue(now: at(10)) == at(110))
        schedule.passStarted()
        schedule.passFailed(at: at(110), period: .seconds(1), delay: .seconds(4))
        #expect(schedule.failures == 2)
        #expect(schedule.nextDue(now: at(110)) == at(4_110))
        // An immediate request (events lost, monitor regained) runs at once.
        schedule.requestImmediate()
        #expect(schedule.isDue(at: at(120)))
        schedule.passStarted()
        schedule.passSucceeded(at: at(200), period: .seconds(5))
        #expect(schedule.failures == 0)
        #expect(schedule.nextDue(now: at(200)) == at(5_200))
    }

    @Test("a new desired state starts the backoff over and runs after the debounce")
    func desiredResetsBackoff() {
        var schedule = PassSchedule<Instant>()
        schedule.passStarted()
        schedule.passFailed(at: at(0), period: .seconds(5), delay: .seconds(20))
        schedule.passStarted()
        schedule.passFailed(at: at(20_000), period: .seconds(5), delay: .seconds(30))
        #expect(schedule.failures == 2)
        schedule.desiredChanged(at: at(21_000), debounce: .milliseconds(100))
        #expect(schedule.failures == 0)
        #expect(schedule.nextDue(now: at(21_000)) == at(21_100))
    }

    @Test("a pass that fails after the desired state was replaced earns the new state no backoff")
    func staleFailureNoBackoff() {
        var schedule = PassSchedule<Instant>()
        schedule.passStarted()
        schedule.passSucceeded(at: at(0), period: .seconds(5))
        schedule.passStarted()
        schedule.desiredChanged(at: at(1_000), debounce: .milliseconds(100))
        let staleArmed = schedule.passFailed(at: at(1_050), period: .seconds(5), delay: .seconds(20))
        #expect(!staleArmed)
        #expect(schedule.failures == 0)
        #expect(schedule.nextDue(now: at(1_050)) == at(1_100))
        // The new state's own pass failing does back off.
        schedule.passStarted()
        let armed = schedule.passFailed(at: at(1_100), period: .seconds(5), delay: .seconds(20))
        #expect(armed)
        #expect(schedule.failures == 1)
        #expect(schedule.nextDue(now: at(1_100)) == at(21_100))
    }

    @Test("a shorter period re-arms the timer sooner, a missing one drops it")
    func periodChange() {
        var schedule = PassSchedule<Instant>()
        schedule.passStarted()
        schedule.passSucceeded(at: at(0), period: nil)
        schedule.periodChanged(at: at(100), period: .seconds(5))
        #expect(schedule.nextDue(now: at(100)) == at(5_100))
        schedule.periodChanged(at: at(200), period: .seconds(30))
        #expect(schedule.nextDue(now: at(200)) == at(5_100))
        schedule.periodChanged(at: at(300), period: nil)
        #expect(schedule.nextDue(now: at(300)) == nil)
    }

    @Test("backoff doubles up to its cap, and jitter only shortens it")
    func backoff() {
        let backoff = Backoff(initial: .milliseconds(250), maximum: .seconds(30), jitter: 0.2)
        #expect(backoff.ceiling(attempt: 1) == .milliseconds(250))
        #expect(backoff.ceiling(attempt: 2) == .milliseconds(500))
        #expect(backoff.ceiling(attempt: 3) == .seconds(1))
        #expect(backoff.ceiling(attempt: 8) == .seconds(30))
        #expect(backoff.ceiling(attempt: 1_000) == .seconds(30))
        var random = JitterMix64(seed: 7)
        for attempt in 1...40 {
            let delay = backoff.delay(attempt: attempt, using: &random)
            let ceiling = backoff.ceiling(attempt: attempt)
            #expect(delay <= ceiling)
            #expect(delay >= ceiling * 0.8 - .nanoseconds(1))
        }
    }

    @Test("one seed gives one jitter sequence")
    func seededJitter() {
        let backoff = Backoff(initial: .seconds(1), maximum: .seconds(60))
        var first = JitterSource(seed: 99)
        var second = JitterSource(seed: 99)
        var other = JitterSource(seed: 100)
        let a = (1...10).map { backoff.delay(attempt: $0, using: &first) }
        let b = (1...10).map { backoff.delay(attempt: $0, using: &second) }
        let c = (1...10).map { backoff.delay(attempt: $0, using: &other) }
        #expect(a == b)
        #expect(a != c)
    }

    @Test("durations log as milliseconds with three decimals")
    func loggedMilliseconds() {
        #expect(Duration.seconds(0.20003623246529567).loggedMilliseconds == "200.036")
        #expect(Duration.seconds(30).loggedMilliseconds == "30000.000")
        #expect(Duration.microseconds(5).loggedMilliseconds == "0.005")
        #expect(Duration.zero.loggedMilliseconds == "0.000")
    }
}
