// Times a ReconcileLoop on the real kernel, in an existing namespace (made by
// bench-loop.sh) holding v0 with 10.0.0.2/24: COUNT owned routes are kept
// converged by a loop over RtnlSource/LinuxKernel; each repetition deletes
// one of them with an RTM_DELROUTE from another socket (what `ip route del`
// sends) and times until the loop reports the pass that put it back. Once
// with the default debounce (100 ms), once with debounce 0. Prints one line
// per measurement: `name median_seconds p90_seconds`.
import BenchSupport
import Glibc
import LinxLinux
import LinxReconcile
import Synchronization

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: LoopKernelBench NETNS [COUNT] [REPEATS]")
    exit(2)
}
let scope = NetnsScope.named(arguments[1])
let count = arguments.count > 2 ? Int(arguments[2])! : 1_000
let repeats = arguments.count > 3 ? Int(arguments[3])! : 21

func destination(_ i: Int) -> String { "10.\(100 + i / 62500).\(i / 250 % 250).\(i % 250 + 1)/32" }

let desired = RtnlDesiredState((0..<count).map { .route(to: destination($0), via: "10.0.0.1") })
let clock = ContinuousClock()

/// The loop's reports as they arrive: how many, and what the latest applied.
final class Reports: Sendable {
    private struct State {
        var count = 0
        var lastApplied = 0
        var waiters: [(Int, CheckedContinuation<Int, Never>)] = []
    }

    private let state = Mutex(State())

    var count: Int { state.withLock { $0.count } }

    func record(applied: Int) {
        let ready = state.withLock { s -> [CheckedContinuation<Int, Never>] in
            s.count += 1
            s.lastApplied = applied
            let ready = s.waiters.filter { $0.0 <= s.count }.map(\.1)
            s.waiters.removeAll { $0.0 <= s.count }
            return ready
        }
        for waiter in ready { waiter.resume(returning: applied) }
    }

    func wait(until count: Int) async -> Int {
        await withCheckedContinuation { continuation in
            let now = state.withLock { s -> Int? in
                if s.count >= count { return s.lastApplied }
                s.waiters.append((count, continuation))
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    /// Returns once no report has arrived for `quiet`.
    func settle(quiet: Duration) async throws {
        var before = -1
        while before != count {
            before = count
            try await Task.sleep(for: quiet)
        }
    }
}

func measure(debounce: Duration) async throws -> [Double] {
    let kernel = LinuxKernel()
    let loop = ReconcileLoop(
        source: RtnlSource(backend: kernel), scope: scope, desired: desired, options: RtnlOptions(),
        lastApplied: .empty,
        configuration: ReconcileLoopConfiguration(interval: .every(.seconds(30)), debounce: debounce, label: "bench"))
    let reports = Reports()
    let events = loop.events
    let listener = Task {
        for await event in events {
            switch event {
            case .report(let report): reports.record(applied: report.applied.count)
            case .error(let error): fail("a pass could not run: \(error)")
            default: break
            }
        }
    }
    let runner = Task { try await loop.run() }
    _ = await reports.wait(until: 1)
    try await reports.settle(quiet: .milliseconds(300))
    guard await loop.lastReport?.converged == true else { fail("the loop did not converge") }

    // The foreign writer: another socket, as `ip route del` would be.
    let operator_ = LinuxKernel()
    var times: [Double] = []
    for i in 0..<repeats {
        let owned = try await operator_.routes(in: scope, matching: RouteFilter(proto: RouteProtocol.linx))
        guard owned.count == count else { fail("expected \(count) owned routes, found \(owned.count)") }
        let victim = owned[(i * 7919) % owned.count]
        let before = reports.count
        let start = clock.now
        let results = await operator_.execute([.deleteRoute(victim)], in: scope, stopOnError: true)
        guard case .success = results.first else { fail("route del failed: \(results)") }
        var applied = await reports.wait(until: before + 1)
        var seen = before + 1
        while applied == 0 {  // a pass that raced the delete; the heal is the next one
            seen += 1
            applied = await reports.wait(until: seen)
        }
        times.append(seconds(start.duration(to: clock.now)))
        try await reports.settle(quiet: .milliseconds(300))
    }
    loop.stop()
    _ = try? await runner.value
    await listener.value
    return times
}

func summary(_ name: String, _ values: [Double]) {
    print(name, (median(values) * 10_000).rounded() / 10_000, (percentile(values, 0.9) * 10_000).rounded() / 10_000)
}

summary("loop_heal_debounce_100ms", try await measure(debounce: .milliseconds(100)))
summary("loop_heal_debounce_0", try await measure(debounce: .zero))
