/// What the names, rules, set elements and set types of a desired table may
/// hold so that each stays inside the nft command it is written into.
///
/// The backend writes each into a line of an nft script (`add rule T C
/// RULE`, `add set T S { type TYPE; }`, `add element T S { A, B }`). Text
/// that ends that command early would make nft run whatever follows as
/// commands of its own, in the same transaction: a set type of `ipv4_addr;
/// }; flush ruleset; add table inet x; add set inet x s { type ipv4_addr`
/// once flushed every table of the namespace, the user's included, and the
/// report said converged. So the check is on bytes, the way nft's scanner
/// reads them, not on Characters (a `;` carrying a combining accent is one
/// Character, but nft still sees the `;`):
/// - no control character but tab (a newline or NUL ends or cuts the line);
/// - no `;` (nft's command separator), even inside quotes, as before;
/// - outside quotes, no `#` (nft reads the rest of the line as a comment)
///   and braces that balance, never closing more than the text opened (a
///   rule's anonymous sets and maps; an element or a type has none);
/// - quotes that close, and no backslash before a quote (nft 1.0.6 has no
///   escapes in strings; refusing the pair keeps this check right were it
///   to have them);
/// - an element holds no `,` (one element per entry).
///
/// Names (tables, chains, sets, set flags) are nft identifiers. Everything
/// else is nft's to judge, when it parses the command. The reconciler checks
/// a desired table with these rules (naming the entry); the real backend
/// checks every command it hands nft again, for callers of the backend.
package enum NftDesiredText {
    /// Where the text goes.
    package enum Kind {
        case rule, element, type
    }

    /// nft's identifiers: an ASCII letter first, then ASCII letters, digits,
    /// `_`, `-`, `.`, `/`; at most 255 bytes. Checked byte by byte: every
    /// scalar must be ASCII, and the ASCII scalars with the Unicode
    /// Alphabetic property are exactly the letters.
    package static func isName(_ name: String) -> Bool {
        let utf8 = name.utf8
        guard let first = utf8.first, isASCIILetter(first), utf8.count <= 255 else { return false }
        return utf8.allSatisfy { byte in
            isASCIILetter(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "/")
        }
    }

    private static func isASCIILetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    /// Why `text` cannot stand as one `kind` of an nft command, with the
    /// text shown (escaped, so a newline in it keeps an error on one line);
    /// `empty` when it is only whitespace; nil when it can. Whitespace at
    /// its ends is nft's to skip.
    package static func refusal(of text: String, as kind: Kind, empty: @autoclosure () -> String) -> String? {
        let trimmed = text.trimmingWhitespace
        guard !trimmed.isEmpty else { return empty() }
        return problem(trimmed, as: kind).map { "\($0): \(String(reflecting: trimmed))" }
    }

    /// Why `text` (trimmed of whitespace) cannot stand as one `kind` of an
    /// nft command, nil when it can.
    package static func problem(_ text: String, as kind: Kind) -> String? {
        var quoted = false
        var depth = 0
        var previous: UInt8 = 0
        for byte in text.utf8 {
            defer { previous = byte }
            switch byte {
            case 0x0A, 0x3B:
                switch kind {
                case .rule: return "one rule per entry (no newline or ';')"
                case .element: return "one element per entry (no newline or ';')"
                case .type: return "a newline or ';' in a set type"
                }
            case 0x2C where kind == .element:
                return "one element per entry (no ',')"
            case 0x22:
                if previous == 0x5C { return "a backslash before a quote" }
                if kind == .type { return "a quote in a set type" }
                quoted.toggle()
            case 0x09:
                break
            case ..<0x20, 0x7F:
                let code = String(byte, radix: 16, uppercase: true)
                return "a control character (U+\(String(repeating: "0", count: 4 - code.count) + code))"
            case 0x23 where !quoted:
                return "'#' outside quotes (nft would read the rest of the line as a comment)"
            case 0x7B where !quoted:
                guard kind == .rule else { return "a '{' in a set \(kind)" }
                depth += 1
            case 0x7D where !quoted || kind == .element:
                guard kind == .rule else { return kind == .element ? "one element per entry (no '}')" : "a '}' in a set type" }
                depth -= 1
                if depth < 0 { return "a '}' that closes no '{' of the rule" }
            default:
                break
            }
        }
        if quoted { return "a quote that is never closed" }
        if depth > 0 { return "a '{' that is never closed" }
        return nil
    }
}

extension NftCommand {
    /// Why this command would not stay one command when nft reads it (a
    /// name that is no identifier, a rule, element or set type that
    /// ``NftDesiredText`` refuses), nil when it would.
    package var textProblem: String? {
        func name(_ name: String, _ what: String) -> String? {
            NftDesiredText.isName(name) ? nil : "invalid \(what) name \(String(reflecting: name))"
        }
        func text(_ text: String, _ kind: NftDesiredText.Kind) -> String? {
            NftDesiredText.refusal(of: text, as: kind, empty: "empty \(kind)")
        }
        switch self {
        case .addTable(let t, _, _), .deleteTable(let t):
            return name(t.name, "table")
        case .addChain(let t, let chain, _), .deleteChain(let t, let chain), .deleteRule(let t, let chain, _):
            return name(t.name, "table") ?? name(chain, "chain")
        case .addRule(let t, let chain, let rule, _):
            return name(t.name, "table") ?? name(chain, "chain") ?? text(rule, .rule)
        case .addSet(let t, let set):
            return name(t.name, "table") ?? name(set.name, "set") ?? text(set.type, .type) ?? set.dataType.flatMap { text($0, .type) }
                ?? set.flags.lazy.compactMap { name($0, "flag") }.first
        case .deleteSet(let t, let set):
            return name(t.name, "table") ?? name(set, "set")
        case .addElements(let t, let set, let elements), .deleteElements(let t, let set, let elements):
            return name(t.name, "table") ?? name(set, "set") ?? elements.lazy.compactMap { text($0, .element) }.first
        }
    }
}
