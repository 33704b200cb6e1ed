import LinxReconcile
import SystemPackage

/// Fault injection. Scripted faults are armed here and fire on the next
/// matching backend operation (never on ``SimKernel/foreign`` writes or
/// inspection); immediate ones act at once. ``faultsFired`` counts every
/// fault that actually fired, by kind.
extension SimKernel {
    /// Fails the next `count` backend operations of kind `op` with `errno`.
    public func failNext(_ count: Int, of op: SimOperation, with errno: Errno, message: String? = nil) {
        state.withLock { s in
            s.faults.errnoRules.append(.init(operation: op, error: KernelError(errno, message ?? "injected fault"), remaining: count, fraction: 1))
        }
    }

    /// Fails each backend operation of kind `op` with probability `fraction`
    /// (drawn from the kernel's seeded generator) until ``clearFaults()``.
    public func failFraction(_ fraction: Double, of op: SimOperation, with errno: Errno, message: String? = nil) {
        state.withLock { s in
            s.faults.errnoRules.append(.init(operation: op, error: KernelError(errno, message ?? "injected fault"), remaining: nil, fraction: fraction))
        }
    }

    /// Each backend batch of two or more requests has, with probability
    /// `fraction`, one request after its first refused with `errno`, while
    /// the requests after it still run (see ``SimFaultKind/batchRefusal``),
    /// until ``clearFaults()``.
    public func failMidBatch(_ fraction: Double = 1, with errno: Errno, message: String? = nil) {
        state.withLock { s in s.faults.midBatch = (fraction, KernelError(errno, message ?? "injected fault")) }
    }

    /// The next `count` dumps (of kind `op`, or any dump) throw EINTR, as a
    /// dump the kernel marked NLM_F_DUMP_INTR; callers must retry.
    public func interruptNextDumps(_ count: Int = 1, of op: SimOperation? = nil) {
        state.withLock { s in s.faults.interruptions.append((op, count)) }
    }

    /// The next `count` address or route adds in `scope` race a concurrent
    /// writer that creates the very same object first: they fail EEXIST.
    public func raceNextCreates(_ count: Int = 1, in scope: NetnsScope = .current) {
        state.withLock { s in s.faults.races[scope, default: 0] += count }
    }

    /// Link `name` disappears just before the next write request in `scope`
    /// (between a reconciler's observe and its apply): requests naming it
    /// fail ENODEV; its addresses, routes and sysctls are gone.
    public func vanishBeforeNextApply(_ name: String, in scope: NetnsScope = .current) {
        state.withLock { s in s.faults.vanishing.append((scope, name)) }
    }

    /// Every subscriber of `scope` loses events now: each reads
    /// ``/LinxReconcile/RtnlEvent/overflow`` next (a netlink socket's ENOBUFS).
    public func overflowSubscribers(in scope: NetnsScope = .current) {
        state.withLock { s in s.overflowSubscribers(in: scope) }
    }

    /// Every monitor of `scope` dies now: its stream finishes with `errno`.
    public func killMonitors(in scope: NetnsScope = .current, with errno: Errno = .ioError) {
        state.withLock { s in s.killMonitors(in: scope, with: KernelError(errno, "monitor died")) }
    }

    /// Reboots the machine: every namespace back to its boot state (links,
    /// addresses, routes, sysctls), the machine's sysctls and every cgroup's
    /// files to their defaults. Namespaces and cgroup directories remain;
    /// monitors see an overflow.
    public func reboot() {
        state.withLock { s in s.reboot() }
    }

    /// A seeded foreign writer makes `steps` random changes to routes,
    /// addresses and sysctls of `scope` and to values of `cgroups` (every
    /// cgroup when empty), ours included.
    public func drift(steps: Int, in scope: NetnsScope = .current, cgroups: [String] = []) {
        state.withLock { s in s.drift(steps: steps, in: scope, cgroups: cgroups) }
    }

    /// Arms a random fault plan (nil disarms it).
    public func arm(_ plan: SimFaultPlan?) {
        state.withLock { s in s.faults.plan = plan }
    }

    /// Disarms every scripted fault and the plan; the fired counts stay.
    public func clearFaults() {
        state.withLock { s in
            let fired = s.faults.fired
            s.faults = FaultEngine()
            s.faults.fired = fired
        }
    }

    /// How many faults of each kind fired since boot.
    public var faultsFired: [SimFaultKind: Int] { state.withLock { $0.faults.fired } }

    /// Events queued (unread) by the live monitors of `scope`: how a test
    /// knows how many a reader can take without waiting.
    package func queuedEvents(in scope: NetnsScope = .current) -> Int {
        state.withLock { $0.namespaces[scope]?.subscribers.reduce(0) { $0 + $1.backlog } ?? 0 }
    }

    /// Events dropped because a subscriber's buffer was full, in `scope`.
    public func eventsLost(in scope: NetnsScope = .current) -> Int {
        state.withLock { $0.namespaces[scope]?.eventsLost ?? 0 }
    }

    /// The capacity of subscriptions made from now on.
    public var eventBufferCapacity: Int {
        get { state.withLock { $0.eventCapacity } }
        set { state.withLock { $0.eventCapacity = max(1, newValue) } }
    }
}
