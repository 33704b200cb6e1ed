/// The sysctl keys a reconciler owns, each with the value the kernel had
/// before this reconciler first wrote it (what ``SysctlOptions/revertOnRelease``
/// writes back).
///
/// A desired key is owned once the kernel holds its value (written by the
/// pass, or found already matching, in which case the "original" is that
/// same value). A released key stays owned until its release succeeded, and
/// is dropped when it vanished from the kernel (a per-interface key whose
/// link went away). Encodes as a flat map `{"net.ipv4.ip_forward": "0"}`.
public struct SysctlLastApplied: Sendable, Hashable, Codable {
    /// Owned key -> value before our first write, as the kernel printed it.
    public var owned: [SysctlKey: String]

    /// A record owning `owned`.
    public init(owned: [SysctlKey: String] = [:]) {
        self.owned = owned
    }

    /// Owns nothing.
    public static let empty = SysctlLastApplied()

    /// Decodes a flat map of dotted key -> original value.
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode([String: String].self)
        var owned: [SysctlKey: String] = [:]
        for (text, original) in raw { owned[try SysctlKey(text)] = original }
        self.owned = owned
    }

    /// Encodes a flat map of dotted key -> original value.
    public func encode(to encoder: any Encoder) throws {
        var raw: [String: String] = [:]
        for (key, original) in owned { raw[key.description] = original }
        var container = encoder.singleValueContainer()
        try container.encode(raw)
    }
}
