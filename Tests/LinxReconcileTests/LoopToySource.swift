import LinxReconcile
import Synchronization
import SystemPackage

/// One key = value setting: the toy Source's unit of change.
struct ToySetting: Sendable, Hashable, CustomStringConvertible {
    var key: String
    var value: Int
    var description: String { "\(key)=\(value)" }
}

/// Options for the toy Source (it has none that matter).
struct ToyOptions: Sendable, Hashable {}

/// A toy kernel for loop tests: a flat map key -> value with the knobs a loop
/// test needs, namely passes it can fail, keys it refuses, a monitor it
/// controls (hints, overflow, death), and a gate that holds a pass mid-flight.
/// All synchronous, so a test changes it without awaiting anything.
final class ToyKernel: Sendable {
    struct State {
        var values: [String: Int] = [:]
        var passes = 0
        var inFlight = 0
        var maxInFlight = 0
        var failingPasses = 0
        var refusedKeys: Set<String> = []
        var monitorSupported = true
        var failingSubscribes = 0
        var subscribeCalls = 0
        var nextMonitor = 0
        var monitors: [Int: AsyncThrowingStream<ReconcileHint, any Error>.Continuation] = [:]
        var gate: PassGate?
        var stepGate: StepGate?
        var hintsEnqueued = 0
        var monitorsEnded = 0
    }

    let state = Mutex(State())

    init(_ values: [String: Int] = [:]) {
        state.withLock { $0.values = values }
    }

    var values: [String: Int] { state.withLock { $0.values } }
    var passes: Int { state.withLock { $0.passes } }
    var maxInFlight: Int { state.withLock { $0.maxInFlight } }
    var subscribeCalls: Int { state.withLock { $0.subscribeCalls } }
    var liveMonitors: Int { state.withLock { $0.monitors.count } }
    /// Hints handed to a live monitor's stream (each reaches the loop, late or soon).
    var hintsEnqueued: Int { state.withLock { $0.hintsEnqueued } }
    /// Monitors ended by ``killMonitors(_:)``.
    var monitorsEnded: Int { state.withLock { $0.monitorsEnded } }

    /// Changes the kernel behind the loop's back and tells live monitors.
    func drift(_ key: String, to value: Int?) {
        state.withLock { $0.values[key] = value }
        hint(.changed)
    }

    /// Sends `hint` `count` times to every live monitor.
    func hint(_ hint: ReconcileHint, count: Int = 1) {
        let monitors = state.withLock { Array($0.monitors.values) }
        var enqueued = 0
        for monitor in monitors {
            for _ in 0..<count {
                if case .enqueued = monitor.yield(hint) { enqueued += 1 }
            }
        }
        state.withLock { $0.hintsEnqueued += enqueued }
    }

    /// Ends every live monitor, with `error` (death) or cleanly.
    func killMonitors(_ error: (any Error)? = nil) {
        let monitors = state.withLock { s in
            defer { s.monitors = [:] }
            s.monitorsEnded += s.monitors.count
            return Array(s.monitors.values)
        }
        for monitor in monitors { monitor.finish(throwing: error) }
    }

    func failPasses(_ count: Int) { state.withLock { $0.failingPasses = count } }
    func failSubscribes(_ count: Int) { state.withLock { $0.failingSubscribes = count } }
    func refuse(_ keys: Set<String>) { state.withLock { $0.refusedKeys = keys } }
    func setMonitorSupported(_ supported: Bool) { state.withLock { $0.monitorSupported = supported } }
    func installGate(_ gate: PassGate?) { state.withLock { $0.gate = gate } }
}

/// Holds passes at their start until released, so a test can act while a
/// pass is in flight.
final class PassGate: Sendable {
    private struct State {
        var entered = 0
        var enteredWaiters: [(Int, CheckedContinuation<Void, Never>)] = []
        var held: [CheckedContinuation<Void, Never>] = []
        var open = false
    }

    private let state = Mutex(State())

    /// Called by the pass: blocks until `open()`.
    func pass() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (resumeNow, ready) = state.withLock { s -> (Bool, [CheckedContinuation<Void, Never>]) in
                s.entered += 1
                let ready = s.enteredWaiters.filter { $0.0 <= s.entered }.map(\.1)
                s.enteredWaiters.removeAll { $0.0 <= s.entered }
                if s.open { return (true, ready) }
                s.held.append(continuation)
                return (false, ready)
            }
            for waiter in ready { waiter.resume() }
            if resumeNow { continuation.resume() }
        }
    }

    /// Suspends until `count` passes have reached the gate.
    func waitEntered(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.entered >= count { return true }
                s.enteredWaiters.append((count, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Lets every held pass (and every later one) through.
    func open() {
        let held = state.withLock { s in
            s.open = true
            defer { s.held = [] }
            return s.held
        }
        for continuation in held { continuation.resume() }
    }
}

/// A Source over a ``ToyKernel``: three-way ownership, best-effort apply.
struct ToySource: ReconcileSource {
    typealias Scope = String
    typealias Desired = [String: Int]
    typealias LastApplied = Set<String>
    typealias Observed = [String: Int]
    typealias Options = ToyOptions
    typealias Item = ToySetting

    let kernel: ToyKernel

    func reconcile(
        scope: String, desired: [String: Int], lastApplied: Set<String>, options: ToyOptions
    ) async throws(ReconcileError) -> ReconcileReport<ToySetting, Set<String>> {
        let (fail, gate, stepGate) = kernel.state.withLock { s -> (Bool, PassGate?, StepGate?) in
            s.passes += 1
            s.inFlight += 1
            s.maxInFlight = max(s.maxInFlight, s.inFlight)
            if s.failingPasses > 0 {
                s.failingPasses -= 1
                s.inFlight -= 1
                return (true, nil, nil)
            }
            return (false, s.gate, s.stepGate)
        }
        if fail {
            throw .observeFailed(resource: "toy \(scope)", error: KernelError(.ioError, "injected"))
        }
        if let gate { await gate.pass() }
        if let stepGate { await stepGate.pass() }
        return kernel.state.withLock { s in
            defer { s.inFlight -= 1 }
            var report = ReconcileReport<ToySetting, Set<String>>(lastApplied: lastApplied, strategy: .bestEffort)
            for key in desired.keys.sorted() {
                let want = ToySetting(key: key, value: desired[key]!)
                let op: ReconcileOp<ToySetting>
                switch s.values[key] {
                case nil: op = .create(want)
                case let have? where have != want.value: op = .update(want, previous: ToySetting(key: key, value: have))
                default:
                    report.lastApplied.insert(key)
                    continue
                }
                if s.refusedKeys.contains(key) {
                    report.failed.append(FailedOp(op, error: KernelError(.permissionDenied)))
                } else {
                    s.values[key] = want.value
                    report.applied.append(op)
                    report.lastApplied.insert(key)
                }
            }
            for key in lastApplied.subtracting(desired.keys).sorted() {
                report.lastApplied.remove(key)
                guard let have = s.values[key] else { continue }
                s.values[key] = nil
                report.applied.append(.delete(ToySetting(key: key, value: have)))
            }
            return report
        }
    }

    func subscribe(scope: String) async throws(ReconcileError) -> HintSubscription {
        let result = kernel.state.withLock { s -> Result<HintSubscription, ReconcileError> in
            s.subscribeCalls += 1
            guard s.monitorSupported else { return .success(.unsupported) }
            if s.failingSubscribes > 0 {
                s.failingSubscribes -= 1
                return .failure(.scopeUnavailable(scope: scope, reason: "injected subscribe failure"))
            }
            let (stream, continuation) = AsyncThrowingStream.makeStream(of: ReconcileHint.self)
            s.nextMonitor += 1
            let id = s.nextMonitor
            s.monitors[id] = continuation
            continuation.onTermination = { [kernel] _ in
                _ = kernel.state.withLock { $0.monitors.removeValue(forKey: id) }
            }
            return .success(.hints(stream))
        }
        return try result.get()
    }

    func observe(scope: String, options: ToyOptions) async throws(ReconcileError) -> [String: Int] {
        kernel.values
    }
}
