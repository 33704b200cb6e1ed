/// How a cgroup pass compares values.
public struct CgroupOptions: Sendable, Hashable, Codable {
    /// The page size memory limits are rounded down to (the kernel stores
    /// `memory.max = 1000000` as 999424 with 4 KiB pages). 4096 unless the
    /// machine uses larger pages.
    public var pageSize: Int

    /// Options; 4 KiB pages by default.
    public init(pageSize: Int = 4096) {
        self.pageSize = pageSize
    }

    /// The defaults.
    public static let `default` = CgroupOptions()
}
