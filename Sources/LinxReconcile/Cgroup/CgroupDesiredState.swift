/// The limits one cgroup should have: interface file -> value, in the
/// cgroup directory that is the pass's scope.
///
/// File names are checked at the start of every pass (no `/`, no `..`, the
/// file must exist in the cgroup), before anything is written. Encodes as a
/// flat JSON/YAML map.
public struct CgroupDesiredState: Sendable, Hashable, Codable, ExpressibleByDictionaryLiteral {
    /// Interface file name -> value.
    public var files: [String: CgroupValue]

    /// An empty desired state.
    public init() {
        files = [:]
    }

    /// A desired state from a map.
    public init(_ files: [String: CgroupValue]) {
        self.files = files
    }

    /// A desired state from a dictionary literal. A file written twice keeps
    /// its last value.
    public init(dictionaryLiteral elements: (String, CgroupValue)...) {
        files = Dictionary(elements, uniquingKeysWith: { _, last in last })
    }

    /// Wants nothing: reconciling to it releases every owned file.
    public static let empty = CgroupDesiredState([:])

    /// The value for a file.
    public subscript(file: String) -> CgroupValue? {
        get { files[file] }
        set { files[file] = newValue }
    }

    /// True when no file is desired.
    public var isEmpty: Bool { files.isEmpty }

    /// Decodes a flat map.
    public init(from decoder: any Decoder) throws {
        files = try decoder.singleValueContainer().decode([String: CgroupValue].self)
    }

    /// Encodes a flat map.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(files)
    }
}
