import LinxReconcile

/// One line of the simulator's history: who did what, where, and how it
/// ended. Two runs of one seeded scenario must produce identical histories;
/// ``SimKernel/historyText`` renders them for a byte-for-byte comparison.
public struct SimHistoryEntry: Sendable, Hashable, CustomStringConvertible {
    /// Who acted.
    public enum Actor: String, Sendable, Hashable {
        /// A backend protocol call (the reconciler under test).
        case backend
        /// The foreign writer: someone else changing the kernel.
        case foreign
        /// Test setup: namespaces, links, cgroups.
        case admin
        /// A fault firing.
        case fault
    }

    /// What was done. Values are kept as values; text is made only when
    /// the history is rendered, so logging stays cheap.
    public enum Action: Sendable, Hashable {
        case request(RtnlRequest)
        case dump(SimOperation)
        case subscribe
        case sysctlRead(SysctlKey)
        case sysctlWrite(SysctlKey, String)
        case sysctlList(SysctlKey)
        case cgroup(SimOperation, file: String, value: String?, cgroup: String)
        case note(String)
    }

    /// How it ended.
    public enum Outcome: Sendable, Hashable {
        case ok
        case count(Int)
        case value(String)
        case failed(KernelError)
    }

    /// Position in the history, from 1.
    public var step: Int
    /// Who acted.
    public var actor: Actor
    /// The namespace acted in, nil for machine-wide operations (cgroups, reboot).
    public var scope: NetnsScope?
    /// What was done.
    public var action: Action
    /// How it ended.
    public var outcome: Outcome

    /// One line: step, actor, scope, action and outcome (errno by name).
    public var description: String {
        var text = "\(step) \(actor.rawValue)"
        if let scope { text += " [\(scope)]" }
        text += " " + Self.render(action) + " -> "
        switch outcome {
        case .ok: text += "ok"
        case .count(let n): text += "\(n) items"
        case .value(let v): text += "\"\(v.map { $0 == "\t" ? "\\t" : ($0 == "\n" ? "\\n" : String($0)) }.joined())\""
        case .failed(let error): text += error.errno.symbolicName
        }
        return text
    }

    /// The line of a fault firing as a fuzz trace lists it under `fault:`:
    /// step, scope and what fired (`11 reboot`, `8 [current netns] errno
    /// linkDump EBUSY`), without the actor and the outcome, which for a
    /// fault say nothing (always fault, always ok).
    public var faultLine: String {
        "\(step)" + (scope.map { " [\($0)]" } ?? "") + " " + Self.render(action)
    }

    static func render(_ action: Action) -> String {
        switch action {
        case .request(let request):
            switch request {
            case .addAddress(let a): return "addr add \(a.address)/\(a.prefixLength) #\(a.ifindex)" + (a.proto.map { " proto \($0)" } ?? "")
            case .deleteAddress(let a): return "addr del \(a.address)/\(a.prefixLength) #\(a.ifindex)"
            case .addRoute(let r): return "route add " + render(r)
            case .replaceRoute(let r): return "route replace " + render(r)
            case .deleteRoute(let r): return "route del " + render(r)
            }
        case .dump(let op): return "dump \(op.rawValue)"
        case .subscribe: return "subscribe"
        case .sysctlRead(let key): return "sysctl read \(key)"
        case .sysctlWrite(let key, let value): return "sysctl write \(key)=\(value)"
        case .sysctlList(let key): return "sysctl list \(key)"
        case .cgroup(let op, let file, let value, let cgroup):
            return "\(op.rawValue) \(cgroup)/\(file)" + (value.map { "=\($0)" } ?? "")
        case .note(let text): return text
        }
    }

    static func render(_ r: Route) -> String {
        var text = "\(r.destination) table \(r.table) metric \(r.metric) tos \(r.tos) proto \(r.proto) type \(r.type.rawValue)"
        if let gateway = r.gateway { text += " via \(gateway)" }
        if let ifindex = r.ifindex { text += " #\(ifindex)" }
        return text
    }
}

/// The append-only log behind ``SimKernel/history``.
struct SimHistory: Sendable {
    var enabled: Bool
    private(set) var entries: [SimHistoryEntry] = []
    /// Steps counted even when logging is off, so fault plans that key on
    /// the step stay deterministic whether or not the history is kept.
    private(set) var steps = 0

    init(enabled: Bool) { self.enabled = enabled }

    mutating func record(
        _ actor: SimHistoryEntry.Actor, _ scope: NetnsScope?, _ action: @autoclosure () -> SimHistoryEntry.Action,
        _ outcome: @autoclosure () -> SimHistoryEntry.Outcome
    ) {
        steps += 1
        guard enabled else { return }
        entries.append(SimHistoryEntry(step: steps, actor: actor, scope: scope, action: action(), outcome: outcome()))
    }

    mutating func clear() { entries.removeAll() }
}
