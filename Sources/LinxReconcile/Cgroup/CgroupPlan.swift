/// What one cgroup pass would do, from one read of the files involved.
public struct CgroupPlan: Sendable {
    /// The ops, by file: updates of desired files whose value differs, then
    /// releases of owned files no longer desired.
    public var ops: [ReconcileOp<CgroupSetting>]
    /// The value of every desired or owned file present, as read.
    public var observed: [String: String]
    /// The validated desired state: file -> text to write.
    public var desired: [String: String]
    /// The hierarchy the cgroup is on.
    public var hierarchy: CgroupHierarchy

    /// True when the cgroup already matches.
    public var isEmpty: Bool { ops.isEmpty }
}
