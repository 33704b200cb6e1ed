/// A desired value for a cgroup interface file.
///
/// ```swift
/// let desired: CgroupDesiredState = [
///     "memory.max": .integer(256 * 1024 * 1024),
///     "pids.max": 100,                            // an integer literal
///     "memory.swap.max": .max,
///     "cpu.max": .cpuMax(quota: 50_000, period: 100_000),
///     "io.max": .raw("8:0 rbps=1048576"),         // a file not modelled
/// ]
/// ```
///
/// A string literal is read like the kernel reads the file: `"max"` is
/// ``max``, digits are an ``integer(_:)``, anything else is ``raw(_:)``.
public enum CgroupValue: Sendable, Hashable, Codable, CustomStringConvertible,
    ExpressibleByIntegerLiteral, ExpressibleByStringLiteral
{
    /// A number (bytes for memory files, a count for pids.max ...).
    case integer(Int)
    /// No limit: `max`.
    case max
    /// cpu.max: `quota` microseconds of CPU per `period` (nil quota: no limit).
    case cpuMax(quota: Int?, period: Int)
    /// Text written as given, for files the library does not model.
    case raw(String)

    /// An integer literal.
    public init(integerLiteral value: Int) { self = .integer(value) }

    /// A string literal, read like the kernel reads it.
    public init(stringLiteral value: String) { self = CgroupValue(parsing: value) }

    /// Reads text the way the file would: `max`, an integer, or raw text.
    public init(parsing text: String) {
        let trimmed = SysctlValue.normalized(text)
        if trimmed == "max" {
            self = .max
        } else if let value = Int(trimmed) {
            self = .integer(value)
        } else {
            self = .raw(text)
        }
    }

    /// The text written to the file.
    public var text: String {
        switch self {
        case .integer(let value): String(value)
        case .max: "max"
        case .cpuMax(let quota, let period): "\(quota.map(String.init) ?? "max") \(period)"
        case .raw(let text): text
        }
    }

    /// The value as written to the file.
    public var description: String { text }

    private enum CodingKeys: String, CodingKey { case quota, period }

    /// Decodes an integer, a string (read like a literal) or
    /// `{"quota": Int?, "period": Int}`.
    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.container(keyedBy: CodingKeys.self) {
            self = .cpuMax(
                quota: try container.decodeIfPresent(Int.self, forKey: .quota),
                period: try container.decode(Int.self, forKey: .period))
            return
        }
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else {
            self = CgroupValue(parsing: try container.decode(String.self))
        }
    }

    /// Encodes the inverse of decoding.
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .cpuMax(let quota, let period):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(quota, forKey: .quota)
            try container.encode(period, forKey: .period)
        case .integer(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .max, .raw:
            var container = encoder.singleValueContainer()
            try container.encode(text)
        }
    }
}
