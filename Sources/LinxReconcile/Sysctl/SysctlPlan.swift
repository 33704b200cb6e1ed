/// What one sysctl pass would do, from one read of the keys involved.
public struct SysctlPlan: Sendable {
    /// The ops, by key: updates of desired keys whose value differs, then
    /// releases of owned keys no longer desired.
    public var ops: [ReconcileOp<SysctlSetting>]
    /// The value of every desired or owned key present in the kernel, as read.
    public var observed: [SysctlKey: String]
    /// The validated desired state: key -> text to write.
    public var desired: [SysctlKey: String]

    /// True when the kernel already matches.
    public var isEmpty: Bool { ops.isEmpty }
}
