/// How a sysctl pass treats released keys and host-wide keys.
public struct SysctlOptions: Sendable, Hashable, Codable {
    /// When a key this reconciler owns leaves the desired state, write back
    /// the value it had before the first write (kept in
    /// ``SysctlLastApplied``). Without it, releasing only drops ownership and
    /// the kernel keeps the last value written.
    public var revertOnRelease: Bool
    /// Allows keys outside `net.` when the scope is not the current netns.
    /// Such keys (`kernel.*`, `vm.*`, `fs.*`) are not isolated by network
    /// namespaces: writing one "in a container" changes the whole host, so
    /// it is refused unless the caller says so.
    public var allowHostWideKeys: Bool

    /// Options; both off by default.
    public init(revertOnRelease: Bool = false, allowHostWideKeys: Bool = false) {
        self.revertOnRelease = revertOnRelease
        self.allowHostWideKeys = allowHostWideKeys
    }

    /// The defaults.
    public static let `default` = SysctlOptions()
}
