/// A desired sysctl value: an integer, or text (vectors such as
/// `"32768 60999"`, names such as `"cubic"`).
///
/// Values are compared as the kernel prints them, whitespace-normalised:
/// `"32768 60999"` matches the kernel's `"32768\t60999"`, and `1` matches
/// `"1"`.
public enum SysctlValue: Sendable, Hashable, Codable, CustomStringConvertible,
    ExpressibleByIntegerLiteral, ExpressibleByStringLiteral
{
    /// An integer value.
    case integer(Int)
    /// A text value, written as given.
    case string(String)

    /// An integer literal.
    public init(integerLiteral value: Int) { self = .integer(value) }
    /// A string literal.
    public init(stringLiteral value: String) { self = .string(value) }

    /// The text written to the kernel.
    public var text: String {
        switch self {
        case .integer(let value): String(value)
        case .string(let value): value
        }
    }

    /// The value as written.
    public var description: String { text }

    /// Whitespace runs collapsed to one space, ends trimmed: the form two
    /// values are compared in.
    public static func normalized(_ text: String) -> String {
        // Most values are already normal (single spaces between words, no
        // tab, CR or LF, nothing at either end): those come back as they are.
        // A Character that is a separator is one of these bytes alone, so text
        // without them at those places splits and joins back to itself.
        var afterSpace = true
        for byte in text.utf8 {
            if byte == 0x09 || byte == 0x0A || byte == 0x0D || (byte == 0x20 && afterSpace) {
                return splitAndJoined(text)
            }
            afterSpace = byte == 0x20
        }
        return afterSpace && !text.isEmpty ? splitAndJoined(text) : text
    }

    /// The general form of ``normalized(_:)``: split on whitespace
    /// Characters, joined by single spaces.
    static func splitAndJoined(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            .joined(separator: " ")
    }

    /// Decodes an integer or a string.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    /// Encodes an integer or a string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .integer(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        }
    }
}
