/// The sysctls the kernel checks against each other when one is written.
///
/// `net.ipv4.ip_unprivileged_port_start` may never exceed the low end of
/// `net.ipv4.ip_local_port_range`: writing either so that it would is EINVAL
/// (`ipv4_privileged_ports` and `ipv4_local_port_range`, checked on Linux
/// 6.18). So a desired state that breaks the rule can never be held and is
/// refused up front, a pass that changes both writes them in the one
/// order the kernel accepts (instead of failing one write and fixing it a
/// pass later), and a release never writes back an original the kernel
/// would refuse next to the partner's value (it would fail forever).
enum SysctlCoupling {
    static let portStart = SysctlKey(components: ["net", "ipv4", "ip_unprivileged_port_start"])
    static let portRange = SysctlKey(components: ["net", "ipv4", "ip_local_port_range"])

    /// Refuses a desired state whose start is above its range's low end.
    static func check(_ wanted: [SysctlKey: String]) throws(ReconcileError) {
        guard let startText = wanted[portStart], let rangeText = wanted[portRange],
            let start = firstField(startText), let low = firstField(rangeText), start > low
        else { return }
        throw .invalidDesired(
            entry: "sysctl \(portStart)",
            reason: "\(start) is above the low end of \(portRange) (\(low)); the kernel refuses that in either order")
    }

    /// `ops` with the pair's two writes in the order the kernel accepts:
    /// the start first when its new value fits under the range's current
    /// low end, otherwise the range first (which then fits whenever the
    /// pair's new values do: the kernel's current pair already satisfies
    /// the rule). Either write may be a create, an update or a release's
    /// write-back, so the plan's order (creates and updates by key, then
    /// releases) can put either first. `value` is what an op writes (nil:
    /// nothing, and then the order does not matter).
    static func ordered(
        _ ops: [ReconcileOp<SysctlSetting>], observed: [SysctlKey: String],
        value: (ReconcileOp<SysctlSetting>) -> String?
    ) -> [ReconcileOp<SysctlSetting>] {
        guard let startIndex = ops.firstIndex(where: { $0.item.key == portStart }),
            let rangeIndex = ops.firstIndex(where: { $0.item.key == portRange }),
            let start = value(ops[startIndex]).flatMap(firstField), value(ops[rangeIndex]) != nil,
            let low = observed[portRange].flatMap(firstField)
        else { return ops }
        let startFirst = start <= low
        guard startFirst != (startIndex < rangeIndex) else { return ops }
        let (later, earlier) = startIndex > rangeIndex ? (startIndex, rangeIndex) : (rangeIndex, startIndex)
        var result = ops
        let op = result.remove(at: later)
        result.insert(op, at: earlier)
        return result
    }

    /// The released keys of the pair whose write-back the kernel would
    /// refuse next to the value the pass leaves in the partner key (its new
    /// value, its own write-back, or what the kernel holds). The range's
    /// write-back is given up first, then the start's: a released key whose
    /// original can never be restored is released without writing back.
    static func impossibleReverts(
        _ ops: [ReconcileOp<SysctlSetting>], observed: [SysctlKey: String],
        value: (ReconcileOp<SysctlSetting>) -> String?
    ) -> Set<SysctlKey> {
        let startOp = ops.first { $0.item.key == portStart }
        let rangeOp = ops.first { $0.item.key == portRange }
        var dropped = Set<SysctlKey>()
        func final(_ key: SysctlKey, _ op: ReconcileOp<SysctlSetting>?) -> Int? {
            if let op, !dropped.contains(key), let text = value(op) { return firstField(text) }
            return observed[key].flatMap(firstField)
        }
        func conflict() -> Bool {
            guard let start = final(portStart, startOp), let low = final(portRange, rangeOp) else { return false }
            return start > low
        }
        for (key, op) in [(portRange, rangeOp), (portStart, startOp)] {
            guard conflict() else { break }
            if let op, op.isDelete, value(op) != nil { dropped.insert(key) }
        }
        return dropped
    }

    /// The first whitespace-separated field, as an integer: the value
    /// itself for the start, the low end for the range.
    private static func firstField(_ text: String) -> Int? {
        SysctlValue.normalized(text).split(separator: " ").first.flatMap { Int($0) }
    }
}
