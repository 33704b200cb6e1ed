/// An interface file with a value: the unit of change in cgroup reports.
///
/// In a `create`/`update` the value is the text to be written; in a `delete`
/// (a release) it is the value observed when the file left the desired state.
public struct CgroupSetting: Keyed, Sendable, Hashable, CustomStringConvertible {
    /// The interface file name (`memory.max`); its identity.
    public var file: String
    /// The value, as written or as the kernel printed it.
    public var value: String

    /// A setting.
    public init(file: String, value: String) {
        self.file = file
        self.value = value
    }

    /// The file name.
    public var key: String { file }

    /// `memory.max = 268435456`.
    public var description: String { "\(file) = \(value)" }
}
