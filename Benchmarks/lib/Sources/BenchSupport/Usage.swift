import Glibc

/// One timed run: wall-clock seconds, and the CPU seconds (user + system)
/// and minor page faults it cost, so a run on a loaded machine can still be
/// compared by the work done, not only by the time it took; and how its
/// wall time splits: running (``cpu``), waiting for a CPU other processes
/// held (``runQueue``), and the rest (``idle``: sleeping).
public struct Sample: Sendable {
    /// Wall-clock seconds.
    public var wall: Double
    /// User CPU seconds.
    public var user: Double
    /// System CPU seconds.
    public var system: Double
    /// Minor page faults.
    public var faults: Int
    /// Seconds the run's threads were runnable but waiting for a CPU.
    public var runQueue: Double = 0

    /// User plus system CPU seconds.
    public var cpu: Double { user + system }

    /// Wall seconds neither running nor waiting for a CPU: sleeping (on a
    /// hand-off to another thread, I/O, a kernel wait). Threads running at
    /// the same time count their CPU twice, so this is a lower bound then.
    public var idle: Double { max(0, wall - cpu - runQueue) }

    /// The wall time without the run-queue wait: what the run takes when no
    /// other process wants its CPU (running plus sleeping).
    public var uncontended: Double { wall - runQueue }

    /// The difference of two resource usages, over `wall` seconds.
    init(wall: Double, from before: rusage, to after: rusage) {
        self.wall = wall
        user = Self.seconds(after.ru_utime) - Self.seconds(before.ru_utime)
        system = Self.seconds(after.ru_stime) - Self.seconds(before.ru_stime)
        faults = after.ru_minflt - before.ru_minflt
    }

    private static func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
}

/// Runs `body` in this process and samples it: wall time, and this
/// process's CPU time and page faults over it (all threads: the namespace
/// threads doing the work included; idle threads add nothing).
public func sampleSelf(clock: ContinuousClock = ContinuousClock(), _ body: () async throws -> Void) async rethrows -> Sample {
    let waitedBefore = runQueueNanoseconds(ofThreadsOf: getpid())
    var before = rusage()
    getrusage(RUSAGE_SELF.rawValue, &before)
    let start = clock.now
    try await body()
    let wall = seconds(start.duration(to: clock.now))
    var after = rusage()
    getrusage(RUSAGE_SELF.rawValue, &after)
    var sample = Sample(wall: wall, from: before, to: after)
    // Threads waiting at the same time (a pool's threads woken together)
    // add up past the wall time: the wait counts at most what the wall
    // time leaves beside the CPU time, so idle is then 0, not negative.
    let waited = runQueueSeconds(from: waitedBefore, to: runQueueNanoseconds(ofThreadsOf: getpid()))
    sample.runQueue = min(waited, max(0, wall - sample.cpu))
    return sample
}

/// Runs a reference tool like ``timeReference(_:clock:)`` and samples it:
/// wall time from spawn to exit, and the CPU time and page faults of the
/// process (`wait4`; `ip netns exec` execs the tool in the same process),
/// and its run-queue wait (read from the exited process before it is
/// reaped: a single-threaded tool's whole wait). With `netns` (a namespace
/// file such as `/run/netns/NAME`) the tool starts inside that network
/// namespace, with no `ip netns exec` in front of it.
public func sampleReference(_ arguments: [String], netns: String? = nil, clock: ContinuousClock = ContinuousClock()) -> Sample {
    let (pid, start) = spawnReference(arguments, netns: netns, clock: clock)
    var info = siginfo_t()
    while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 {
        guard errno == EINTR else { fail("waitid failed: errno \(errno)") }
    }
    let wall = seconds(start.duration(to: clock.now))
    let waited = runQueueNanoseconds(path: "/proc/\(pid)/schedstat").map { Double($0) / 1e9 } ?? 0
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 {
        guard errno == EINTR else { fail("wait4 failed: errno \(errno)") }
    }
    if exitStatus(status) != 0 { fail("\(arguments.joined(separator: " ")) exited with status \(exitStatus(status))") }
    var sample = Sample(wall: wall, from: rusage(), to: usage)
    sample.runQueue = waited
    return sample
}

/// Median, lowest and highest of one measure over samples, as the
/// drivers print a spread: `median [min-max]`.
public func spread(_ values: [Double], digits: Int = 3) -> String {
    func rounded(_ value: Double) -> String {
        let scale = Double((0..<digits).reduce(1) { product, _ in product * 10 })
        return "\((value * scale).rounded() / scale)"
    }
    guard let low = values.min(), let high = values.max() else { return "-" }
    return "\(rounded(median(values))) [\(rounded(low))-\(rounded(high))]"
}
