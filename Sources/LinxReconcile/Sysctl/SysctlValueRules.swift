/// Which sysctl values the kernel stores as given, so that a value it would
/// silently cut, reinterpret or ignore is refused before anything is written
/// instead of being reported converged and then rewritten on every pass.
///
/// Observed on Linux 6.18 in a throwaway namespace (see the notes of
/// `SysctlValueRulesKernelTests`), writing to /proc/sys:
/// - An integer key reads up to the first line break and ignores the rest
///   (`1\n0` stores 1); a string key keeps the text before it
///   (`reno\ncubic` stores reno). Trailing whitespace and line breaks are
///   ignored by both (`1 \n` stores 1), which the whitespace-normalised
///   comparison already treats as equal, so they are accepted.
/// - NUL: an integer key answers EINVAL, a string key keeps the text before it.
/// - Other control characters (CR included): EINVAL or ENOENT.
/// - Integers are parsed with base 0: `0x10` stores 16 and `010` stores 8.
/// - An empty write is accepted and changes nothing.
/// - A key holding one integer takes only the first of several fields
///   (`1 0` stores 1); a vector key takes as many as it has.
public enum SysctlValueRules {
    /// Why the kernel would not store `text` as given, or nil when it would
    /// (as far as can be told without reading the key).
    public static func refusal(for text: String) -> String? {
        if text.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\n" }) {
            return "an empty value: the kernel ignores an empty write"
        }
        var sawLineBreak = false
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\0": return "contains NUL: the kernel refuses it or cuts the value there"
            case "\n": sawLineBreak = true
            case " ", "\t": continue
            case "\r": return "contains a carriage return, which the kernel refuses"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                return "contains the control character U+\(String(scalar.value, radix: 16, uppercase: true)), which the kernel refuses"
            default:
                if sawLineBreak {
                    return "contains a line break followed by more text: the kernel stores only the text before it"
                }
            }
        }
        for field in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
            if let stored = reinterpreted(field) {
                return "\(field) is read by the kernel as \(stored) (integers are parsed as C literals): write \(stored)"
            }
        }
        return nil
    }

    /// Why the kernel would not store `text` in a key that now holds
    /// `observed`: several fields where the key holds a single integer.
    public static func refusal(for text: String, observed: String) -> String? {
        let fields = SysctlValue.normalized(text).split(separator: " ")
        let held = SysctlValue.normalized(observed).split(separator: " ")
        guard fields.count > 1, held.count == 1, Int(held[0]) != nil else { return nil }
        return "\(fields.count) fields for a key that holds one integer: the kernel would store only the first"
    }

    /// The decimal value the kernel stores for a hexadecimal (`0x1f`) or
    /// octal (`017`) integer, nil for anything else.
    static func reinterpreted(_ field: Substring) -> String? {
        let negative = field.hasPrefix("-")
        let digits = negative ? field.dropFirst() : field
        let value: Int?
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            value = Int(digits.dropFirst(2), radix: 16)
        } else if digits.count > 1, digits.hasPrefix("0"), digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) {
            value = Int(digits.dropFirst(), radix: 8)
        } else {
            return nil
        }
        return value.map { String(negative ? -$0 : $0) }
    }
}
