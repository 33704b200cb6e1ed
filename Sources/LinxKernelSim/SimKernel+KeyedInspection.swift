import LinxReconcile

extension SimKernel {
    /// ``sysctlValue(_:in:)`` for an already parsed key: no faults, not
    /// logged. Fuzzing snapshots read the same keys every pass, and parsing
    /// the text form each time dominated their cost.
    public func sysctlValue(_ key: SysctlKey, in scope: NetnsScope = .current) -> String? {
        state.withLock { try? $0.readSysctl(key, in: scope) }
    }

    /// `sysctlValue(_:in:)` for several keys at once, under one lock: one
    /// value (or nil) per key, in order. A fuzzing snapshot reads two dozen
    /// keys twice a pass.
    public func sysctlValues(_ keys: [SysctlKey], in scope: NetnsScope = .current) -> [String?] {
        state.withLock { s in keys.map { try? s.readSysctl($0, in: scope) } }
    }
}
