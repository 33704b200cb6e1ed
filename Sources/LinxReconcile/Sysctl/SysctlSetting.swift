/// A sysctl key with a value: the unit of change in sysctl reports.
///
/// In a `create`/`update` the value is the one to be written; in a `delete`
/// (a release) it is the value observed when the key left the desired state.
public struct SysctlSetting: Keyed, Sendable, Hashable, CustomStringConvertible {
    /// The key.
    public var key: SysctlKey
    /// The value, as written or as the kernel printed it.
    public var value: String

    /// A setting.
    public init(key: SysctlKey, value: String) {
        self.key = key
        self.value = value
    }

    /// `net.ipv4.ip_forward = 1`.
    public var description: String { "\(key) = \(value)" }
}
