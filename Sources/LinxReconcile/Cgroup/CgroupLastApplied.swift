/// The cgroup interface files a reconciler owns, threaded between passes
/// (three-way ownership).
///
/// A desired file is owned once the kernel holds its value (written by the
/// pass or found matching); it stays owned while desired even when a later
/// write fails. A released file stays owned until its release succeeded.
/// Encodes as a sorted list of file names.
public struct CgroupLastApplied: Sendable, Hashable, Codable {
    /// The owned file names.
    public var files: Set<String>

    /// A record owning `files`.
    public init(files: Set<String> = []) {
        self.files = files
    }

    /// Owns nothing.
    public static let empty = CgroupLastApplied()

    /// Decodes a list of file names.
    public init(from decoder: any Decoder) throws {
        files = Set(try decoder.singleValueContainer().decode([String].self))
    }

    /// Encodes the file names sorted, so a saved record is stable.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(files.sorted())
    }
}
