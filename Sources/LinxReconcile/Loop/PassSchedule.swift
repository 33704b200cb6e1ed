/// When the next automatic pass is due: the loop's whole timing policy, as a
/// pure value so it can be reasoned about (and tested) without tasks.
///
/// Three things ask for a pass: the resync timer (truth), a debounced hint or
/// desired-state change (latency), and an immediate resync (start-up, ENOBUFS,
/// a lost or regained monitor). After a failed pass a retry deadline with
/// backoff replaces the timer: the retry always runs, even with no timer, and
/// nothing that nobody asked for runs before it, so a broken kernel is not
/// hammered. A hint during the backoff still runs its pass after the debounce
/// (and an immediate request at once): a change means the next attempt may
/// succeed (a namespace came back, a foreign holder let go), and a failing
/// loop under a stream of changes then costs what a healthy one does, one pass
/// per debounce window. The failure count keeps growing, so retries nothing
/// asked for keep backing off. Starting a pass consumes every request made before it: a pass that
/// starts after a hint sees that hint's effect (level-triggered), and a hint
/// that arrives during the pass arms exactly one more.
struct PassSchedule<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// The timer resync deadline, nil when there is no timer.
    private(set) var nextTick: Instant?
    /// The end of the open debounce window, nil when none is open.
    private(set) var debounceDeadline: Instant?
    /// A resync was asked for without debounce.
    private(set) var immediate: Bool
    /// After failures: the earliest instant the next automatic pass may run.
    private(set) var retryDeadline: Instant?
    /// Consecutive failed passes (thrown, or not converged).
    private(set) var failures: Int = 0
    /// The desired state was replaced after the current pass started: that
    /// pass worked on a state nobody wants any more, so its failure must not
    /// put the new state behind a backoff.
    private var desiredReplacedDuringPass = false

    /// A fresh schedule asks for an immediate first pass.
    init() {
        immediate = true
    }

    /// The instant the next automatic pass is due (`now` when it is due at
    /// once), or nil when none is wanted.
    func nextDue(now: Instant) -> Instant? {
        if immediate { return now }
        // The retry replaces the timer; a change asked for since still counts.
        return [retryDeadline ?? nextTick, debounceDeadline].compactMap { $0 }.min()
    }

    /// Whether a pass is due at `now`.
    func isDue(at now: Instant) -> Bool {
        guard let due = nextDue(now: now) else { return false }
        return due <= now
    }

    /// A change hint (or a new desired state): open the debounce window
    /// unless one is already open.
    mutating func noteChange(at now: Instant, debounce: Duration) {
        if debounceDeadline == nil {
            debounceDeadline = now.advanced(by: debounce)
        }
    }

    /// The desired state was replaced: a new situation, so the failure
    /// backoff starts over and the pass follows after the debounce (a fixed
    /// desired state must not wait out the backoff earned by a broken one).
    mutating func desiredChanged(at now: Instant, debounce: Duration) {
        failures = 0
        retryDeadline = nil
        desiredReplacedDuringPass = true
        noteChange(at: now, debounce: debounce)
    }

    /// Events were lost or the monitor changed: resync without debounce.
    mutating func requestImmediate() {
        immediate = true
    }

    /// A pass starts: every request made so far is satisfied by it.
    mutating func passStarted() {
        immediate = false
        debounceDeadline = nil
        desiredReplacedDuringPass = false
    }

    /// The pass converged: back to the regular rhythm.
    mutating func passSucceeded(at now: Instant, period: Duration?) {
        failures = 0
        retryDeadline = nil
        nextTick = period.map { now.advanced(by: $0) }
    }

    /// The pass threw or did not converge: retry after `delay`, unless the
    /// desired state was replaced meanwhile (its pass then follows the
    /// debounce, as ``desiredChanged(at:debounce:)`` promised). Returns
    /// whether the retry backoff was armed.
    @discardableResult
    mutating func passFailed(at now: Instant, period: Duration?, delay: Duration) -> Bool {
        nextTick = period.map { now.advanced(by: $0) }
        guard !desiredReplacedDuringPass else { return false }
        failures += 1
        retryDeadline = now.advanced(by: delay)
        return true
    }

    /// The timer period changed (the monitor went down or came back): re-arm
    /// the timer from `now` if the new period would fire sooner, or drop it.
    mutating func periodChanged(at now: Instant, period: Duration?) {
        guard let period else {
            nextTick = nil
            return
        }
        let candidate = now.advanced(by: period)
        if nextTick == nil || candidate < nextTick! { nextTick = candidate }
    }
}
