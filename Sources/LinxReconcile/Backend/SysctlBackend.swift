/// The sysctl half of a kernel: `/proc/sys` files in a network namespace.
///
/// Values are exchanged as the kernel prints them, with the trailing newline
/// removed. Errors carry the kernel's errno: ENOENT for an unknown key,
/// EINVAL for a value the kernel refuses, EACCES/EPERM for a read-only key.
public protocol SysctlBackend: Sendable {
    /// Reads one key.
    func read(_ key: SysctlKey, in scope: NetnsScope) async throws(KernelError) -> String
    /// Writes one key.
    func write(_ key: SysctlKey, value: String, in scope: NetnsScope) async throws(KernelError)
    /// Lists the keys under `prefix` (recursively), sorted.
    func keys(under prefix: SysctlKey, in scope: NetnsScope) async throws(KernelError) -> [SysctlKey]
}

/// A sysctl key as path components below /proc/sys.
///
/// Written dotted (`net.ipv4.ip_forward`) or slashed (`net/ipv4/ip_forward`).
/// In the dotted form an interface name containing a dot is written with `/`
/// (`net.ipv4.conf.eth0/100.forwarding`), as sysctl(8) does. Keys that would
/// escape /proc/sys (empty, absolute, `..`) are refused.
public struct SysctlKey: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The path components, e.g. `["net", "ipv4", "conf", "eth0.100", "forwarding"]`.
    public let components: [String]

    /// Parses a dotted or slashed key; throws ``ValueError`` naming the text when it is empty or would escape /proc/sys.
    public init(_ text: String) throws(ValueError) {
        // Keys are parsed on every pass (desired states, snapshots); almost
        // all are short ASCII, which a byte scan parses exactly as the
        // Character-based rules below would.
        if let parts = Self.plainASCIIComponents(text) {
            self.init(checked: parts)
        } else {
            self.init(checked: try Self.components(of: text))
        }
    }

    /// The components of `text` by the rules ``init(_:)`` documents, or the
    /// refusal naming the text.
    static func components(of text: String) throws(ValueError) -> [String] {
        guard !text.isEmpty else { throw ValueError(value: text, reason: "empty sysctl key") }
        guard !text.hasPrefix("/") && !text.hasPrefix(".") else {
            throw ValueError(value: text, reason: "a sysctl key is relative to /proc/sys; it must not start with '/' or '.'")
        }
        let parts: [String]
        if text.prefix(while: { $0 != "/" }).contains(".") {
            // Dotted form: '.' separates, '/' stands for a '.' inside a component.
            parts = text.split(separator: ".", omittingEmptySubsequences: false)
                .map { String($0.map { $0 == "/" ? "." : $0 }) }
        } else {
            parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        }
        for part in parts where !Self.isPlainName(part) {
            throw ValueError(value: text, reason: "component \"\(part)\" would escape /proc/sys or is empty")
        }
        return parts
    }

    /// The components of an all-ASCII key whose every component is a plain
    /// name, as ``components(of:)`` splits them; nil for anything else
    /// (other text, or a key it refuses), which then takes that general
    /// path. In ASCII every Character is one byte, except CR LF, which is
    /// neither separator, so splitting bytes and splitting Characters agree.
    static func plainASCIIComponents(_ text: String) -> [String]? {
        let dot = UInt8(ascii: "."), slash = UInt8(ascii: "/")
        let parts = text.utf8.withContiguousStorageIfAvailable { bytes -> [String]? in
            guard let first = bytes.first, first != dot, first != slash else { return nil }
            var dotted = false, sawSlash = false
            for byte in bytes {
                if byte >= 0x80 || byte == 0 { return nil }
                if byte == slash { sawSlash = true } else if byte == dot && !sawSlash { dotted = true }
            }
            let separator = dotted ? dot : slash
            var parts: [String] = []
            var start = 0
            for end in 0...bytes.count where end == bytes.count || bytes[end] == separator {
                let part = UnsafeBufferPointer(rebasing: bytes[start..<end])
                // Empty, "." or "..": a dotted part holds no '.' but its '/'s become
                // '.'s, a slashed part holds no '/'.
                if part.isEmpty || (part.count <= 2 && part.allSatisfy { $0 == dot || $0 == slash }) { return nil }
                // Dotted form: a '/' stands for a '.' inside a component.
                parts.append(dotted && sawSlash
                    ? String(decoding: part.map { $0 == slash ? dot : $0 }, as: UTF8.self)
                    : String(decoding: part, as: UTF8.self))
                start = end + 1
            }
            return parts
        }
        return parts ?? nil
    }

    /// A key from components already split, as a backend lists them.
    ///
    /// - Precondition: every component is a plain name (not empty, `.` or
    ///   `..`, no `/` or NUL), so that no key can name a file outside
    ///   /proc/sys. Text from users goes through ``init(_:)``, which throws.
    public init(components: [String]) {
        precondition(
            components.allSatisfy(Self.isPlainName),
            "SysctlKey components must be plain names inside /proc/sys, got \(components)")
        self.init(checked: components)
    }

    private init(checked components: [String]) {
        self.components = components
        path = components.joined(separator: "/")
    }

    private static func isPlainName(_ part: String) -> Bool {
        // Bytes, not Characters: a '/' glued to a Unicode mark ("\u{600}/")
        // is one Character, which a Character search would let through into
        // the path.
        !part.isEmpty && part != "." && part != ".."
            && !part.utf8.contains(UInt8(ascii: "/")) && !part.utf8.contains(0)
    }

    /// The path relative to /proc/sys: the components joined by `/`, kept
    /// beside them because every read and write of a key names its file.
    public let path: String

    /// The dotted form sysctl(8) prints.
    public var description: String {
        components.map { $0.utf8.contains(UInt8(ascii: ".")) ? String($0.map { $0 == "." ? "/" : $0 }) : $0 }
            .joined(separator: ".")
    }

    /// Keys are the same when their components are (``path`` follows from them).
    public static func == (a: SysctlKey, b: SysctlKey) -> Bool { a.components == b.components }

    /// Hashes the components, as equality compares them.
    public func hash(into hasher: inout Hasher) { hasher.combine(components) }

    /// True for keys under `net.`, the only ones a network namespace isolates.
    public var isNetworkNamespaced: Bool { components.first == "net" }

    /// Whether this key lies under `prefix`, component by component (`net.ipv4` is not a prefix of `net.ipv40`).
    public func hasPrefix(_ prefix: SysctlKey) -> Bool { components.starts(with: prefix.components) }

    public static func < (a: SysctlKey, b: SysctlKey) -> Bool { a.components.lexicographicallyPrecedes(b.components) }

    public init(from decoder: any Decoder) throws {
        self = try SysctlKey(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

