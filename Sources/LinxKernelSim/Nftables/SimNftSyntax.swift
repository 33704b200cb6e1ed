import LinxReconcile
import Synchronization

/// The simulator's model of nft's parser and printer for the rule subset
/// it understands: it refuses what nft refuses (EINVAL with nft's words)
/// and prints a rule the way `nft -s list` does.
///
/// What it models was observed with nft 1.0.6 on Linux 6.18: `==` is
/// dropped; `meta iifname` prints as `iifname` (`meta iif` as `iif`);
/// interface names are quoted; protocol numbers print as names
/// (`meta l4proto 17` -> `meta l4proto udp`); well-known services print
/// as ports (`ssh` -> `22`); anonymous set elements print sorted,
/// `{ a, b }`; `ct state` lists print in bit order
/// (`established,related,new`); an IPv4 prefix prints masked
/// (`10.0.0.1/8` -> `10.0.0.0/8`); in an `ip`/`ip6` table the redundant
/// `ip protocol tcp` before `tcp dport` is dropped (kept in `inet`); an
/// anonymous set written with one element prints as that element
/// (`tcp dport { 22 }` -> `tcp dport 22`, `{ 22, 22 }` stays a set).
///
/// `iif`/`oif` (and `meta iif`/`meta oif`) match an interface index, not a
/// name: nft resolves each operand against the links of the namespace it
/// runs in when it evaluates the rule, the rule holds the index, and a
/// listing prints the name of whatever link has that index then, else the
/// number (see ``ifindex(_:in:)``). So parsing leaves those operands as
/// written (``Parsed/interfaces``), and ``SimNftables`` resolves them at
/// add time and names them at listing time. `iifname`/`oifname` are
/// strings and are never resolved.
enum SimNftSyntax {
    /// What a rule refers to, for the kernel's reference checks.
    struct Parsed: Sendable, Hashable {
        /// The listing, for a rule with no ``interfaces``; with them, the
        /// rule with each operand as written (the listing is made from
        /// ``pieces`` and the resolved indices instead).
        var text: String
        var jumps: [String]
        var sets: [String]
        /// The `iif`/`oif` operands, in the order they appear.
        var interfaces: [InterfaceOperand] = []
        /// With ``interfaces``: the listing's text around them, one more
        /// piece than operands.
        var pieces: [String] = []
    }

    /// One `iif`/`oif` operand as written: a name or a number, or an
    /// anonymous set of them (written with two or more elements).
    struct InterfaceOperand: Sendable, Hashable {
        /// Unquoted.
        var elements: [String]
        var isSet: Bool
    }

    struct Refusal: Error {
        var message: String
    }

    static let verdicts: Set<String> = ["accept", "drop", "reject", "return", "continue", "queue", "masquerade", "notrack"]
    static let protocols: [String: String] = ["6": "tcp", "17": "udp", "1": "icmp", "58": "ipv6-icmp", "tcp": "tcp", "udp": "udp", "icmp": "icmp", "icmpv6": "ipv6-icmp", "ipv6-icmp": "ipv6-icmp", "sctp": "sctp", "132": "sctp"]
    static let services: [String: String] = ["ssh": "22", "http": "80", "https": "443", "domain": "53", "dns": "53", "smtp": "25", "ntp": "123"]
    static let ctStates = ["invalid", "established", "related", "new", "untracked"]

    /// Parses and prints one rule; `family` decides the dependency rule.
    ///
    /// Remembered per rule and family (parsing is a function of the two):
    /// every commit parses each rule it adds, and a fuzzing campaign adds
    /// the same few dozen rules over and over.
    static func parse(_ rule: String, family: NftFamily) throws(Refusal) -> Parsed {
        let key = ParsedRules.Key(rule: rule, family: family)
        if let parsed = ParsedRules.shared.lookup(key) { return parsed }
        let parsed = try parseAnew(rule, family: family)
        ParsedRules.shared.store(parsed, for: key)
        return parsed
    }

    /// ``parse(_:family:)`` without the memory.
    static func parseAnew(_ rule: String, family: NftFamily) throws(Refusal) -> Parsed {
        var tokens = try tokenize(rule)
        // "counter packets N bytes M" is state, not part of the rule.
        var i = 0
        while i < tokens.count {
            if tokens[i] == "counter", i + 4 < tokens.count, tokens[i + 1] == "packets", tokens[i + 3] == "bytes" {
                tokens.removeSubrange((i + 1)...(i + 4))
            }
            i += 1
        }
        var out: [String] = []
        var jumps: [String] = [], sets: [String] = []
        var index = 0
        func next() -> String? {
            guard index < tokens.count else { return nil }
            defer { index += 1 }
            return tokens[index]
        }
        func peek() -> String? { index < tokens.count ? tokens[index] : nil }
        var interfaces: [InterfaceOperand] = []
        func value(_ kind: ValueKind) throws(Refusal) -> String {
            var negate = ""
            if peek() == "==" { index += 1 }
            if peek() == "!=" {
                index += 1
                negate = "!= "
            }
            guard let token = next() else { throw Refusal(message: "syntax error, unexpected end of file") }
            if token == "{" {
                var elements: [String] = []
                while let element = next(), element != "}" {
                    if element == "," { continue }
                    elements.append(kind == .ifindex ? unquoted(element) : try kind.canonical(element))
                }
                guard !elements.isEmpty else { throw Refusal(message: "syntax error, unexpected }") }
                if kind == .ifindex {
                    interfaces.append(InterfaceOperand(elements: elements, isSet: elements.count > 1))
                    return negate + String(operandMark)
                }
                // One element is no set (nft evaluates `{ x }` as `x`).
                if elements.count == 1 { return negate + elements[0] }
                return negate + "{ " + kind.sorted(Array(Set(elements))).joined(separator: ", ") + " }"
            }
            if token.hasPrefix("@") {
                let name = String(token.dropFirst())
                guard !name.isEmpty else { throw Refusal(message: "syntax error, unexpected @") }
                sets.append(name)
                return negate + token
            }
            if kind == .ifindex {
                interfaces.append(InterfaceOperand(elements: [unquoted(token)], isSet: false))
                return negate + String(operandMark)
            }
            return negate + (try kind.canonical(token))
        }
        var sawProtocol: String? = nil
        while let token = next() {
            switch token {
            case "ip", "ip6":
                guard let field = next() else { throw Refusal(message: "syntax error, unexpected end of file") }
                switch field {
                case "saddr", "daddr":
                    out.append("\(token) \(field) \(try value(token == "ip" ? .ipv4 : .ipv6))")
                case "protocol", "nexthdr":
                    let proto = try value(.proto)
                    if family != .inet, family.rawValue == token, ["tcp", "udp"].contains(proto), ["tcp", "udp"].contains(peek() ?? "") {
                        sawProtocol = proto
                        continue
                    }
                    out.append("\(token) \(field) \(proto)")
                default: throw Refusal(message: "syntax error, unexpected \(field)")
                }
            case "tcp", "udp", "th":
                guard let field = next() else { throw Refusal(message: "syntax error, unexpected end of file") }
                if token == "tcp", field == "flags" {
                    out.append("tcp flags \(try value(.word))")
                    continue
                }
                guard field == "dport" || field == "sport" else { throw Refusal(message: "syntax error, unexpected \(field)") }
                if let sawProtocol, sawProtocol != token { throw Refusal(message: "conflicting protocols specified: \(sawProtocol) vs. \(token)") }
                out.append("\(token) \(field) \(try value(.port))")
            case "icmp", "icmpv6":
                guard next() == "type" else { throw Refusal(message: "syntax error, unexpected \(tokens[index - 1])") }
                out.append("\(token) type \(try value(.word))")
            case "meta":
                guard let key = next() else { throw Refusal(message: "syntax error, unexpected end of file") }
                switch key {
                case "iifname", "oifname": out.append("\(key) \(try value(.interface))")
                case "iif", "oif": out.append("\(key) \(try value(.ifindex))")
                case "l4proto": out.append("meta l4proto \(try value(.proto))")
                case "nfproto": out.append("meta nfproto \(try value(.word))")
                case "mark": out.append("meta mark \(try value(.number))")
                default: throw Refusal(message: "syntax error, unexpected \(key)")
                }
            case "iifname", "oifname":
                out.append("\(token) \(try value(.interface))")
            case "iif", "oif":
                out.append("\(token) \(try value(.ifindex))")
            case "ct":
                guard let key = next() else { throw Refusal(message: "syntax error, unexpected end of file") }
                guard key == "state" else { throw Refusal(message: "syntax error, unexpected \(key)") }
                out.append("ct state \(try value(.ctState))")
            case "counter":
                out.append("counter")
            case "log":
                var text = "log"
                while let option = peek(), option == "prefix" || option == "level" {
                    index += 1
                    guard let argument = next() else { throw Refusal(message: "syntax error, unexpected end of file") }
                    text += " \(option) \(option == "prefix" ? quote(argument) : argument)"
                }
                out.append(text)
            case "limit":
                guard next() == "rate", let rate = next() else { throw Refusal(message: "syntax error, limit needs rate N/unit") }
                out.append("limit rate \(rate)")
            case "jump", "goto":
                guard let target = next(), SimNftSyntax.isName(target) else { throw Refusal(message: "syntax error, \(token) needs a chain") }
                jumps.append(target)
                out.append("\(token) \(target)")
            case "snat", "dnat":
                guard next() == "to", let target = next() else { throw Refusal(message: "syntax error, \(token) needs to ADDRESS") }
                out.append("\(token) to \(try ValueKind.ipv4.canonical(target))")
            case "comment":
                guard !out.isEmpty, let text = next() else { throw Refusal(message: "syntax error, unexpected comment") }
                out.append("comment \(quote(text))")
            default:
                guard verdicts.contains(token) else { throw Refusal(message: "syntax error, unexpected \(token)") }
                out.append(token)
            }
        }
        guard !out.isEmpty else { throw Refusal(message: "syntax error, unexpected end of file") }
        let text = out.joined(separator: " ")
        guard !interfaces.isEmpty else { return Parsed(text: text, jumps: jumps, sets: sets) }
        let pieces = text.split(separator: operandMark, omittingEmptySubsequences: false).map(String.init)
        var written = pieces[0]
        for (operand, piece) in zip(interfaces, pieces.dropFirst()) {
            written += (operand.isSet ? "{ \(operand.elements.joined(separator: ", ")) }" : operand.elements[0]) + piece
        }
        return Parsed(text: written, jumps: jumps, sets: sets, interfaces: interfaces, pieces: pieces)
    }

    /// Where an `iif`/`oif` operand sits in a parsed rule's text until it
    /// is cut into ``Parsed/pieces`` (``tokenize(_:)`` refuses a rule
    /// holding it).
    private static let operandMark: Character = "\u{0}"

    private static func unquoted(_ token: String) -> String {
        token.hasPrefix("\"") ? String(token.dropFirst().dropLast()) : token
    }

    /// The index an `iif`/`oif` operand names in a namespace whose links
    /// are `indices` (by name), as nft 1.0.6 resolves it (its
    /// ifindex_type_parse): the link of that name; else the text as a
    /// decimal number, as strtol reads it (an empty text is 0) from 0 to
    /// INT_MAX, taken as is whether or not a link has that index; else
    /// refused: "Interface does not exist" (nft's own evaluation error, no
    /// kernel errno: EINVAL, as ``LinuxKernel`` maps it).
    ///
    /// Observed with nft 1.0.6 on Linux 6.18 in a throwaway namespace with
    /// a veth pair pa0 (3) / pa1 (2): `iif "pa0"` and `oif pa1` list as
    /// `iif "pa0"` / `oif "pa1"`; `iif "zz9"` (also under `nft -c`, and
    /// as an element of `iif { "lo", "zz9" }`), `iif "Lo"`, a 17-letter
    /// name and `iif 2147483648` are refused so; `iif 7` lists as
    /// `iif 7`, `iif 2` as `iif "pa1"`, `iif 05` as `iif 5`, `iif ""` as
    /// `iif 0`; with a veth named `7` (index 3), `iif 7` lists as
    /// `iif "7"`. After `ip link del pa0` (its peer goes too) the same
    /// rules list as `iif 3` / `oif 2`: the rule holds the index.
    static func ifindex(_ written: String, in indices: [String: Int32]) throws(Refusal) -> Int32 {
        if let index = indices[written] { return index }
        var bytes = Substring(written).utf8[...]
        while let first = bytes.first, first == 0x20 || (0x09...0x0D).contains(first) { bytes = bytes.dropFirst() }
        var negative = false
        if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        // No digits: strtol reads nothing and points at the text's start,
        // which is its end only when the text is empty.
        guard !bytes.isEmpty else {
            if written.isEmpty { return 0 }
            throw Refusal(message: "Interface does not exist")
        }
        var value: Int64 = 0
        for byte in bytes {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { throw Refusal(message: "Interface does not exist") }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            guard value <= Int64(Int32.max) + 1 else { throw Refusal(message: "Interface does not exist") }
        }
        if negative { value = -value }
        guard (0...Int64(Int32.max)).contains(value) else { throw Refusal(message: "Interface does not exist") }
        return Int32(value)
    }

    /// The indices each of `parsed`'s interface operands names (a set's
    /// deduplicated and in index order, as nft lists it), or the refusal.
    static func resolve(_ parsed: Parsed, in indices: [String: Int32]) throws(Refusal) -> [[Int32]] {
        var resolved: [[Int32]] = []
        resolved.reserveCapacity(parsed.interfaces.count)
        for operand in parsed.interfaces {
            var found: [Int32] = []
            for element in operand.elements {
                let index = try ifindex(element, in: indices)
                if !found.contains(index) { found.append(index) }
            }
            resolved.append(operand.isSet ? found.sorted() : found)
        }
        return resolved
    }

    /// The listing of `parsed` with its interface operands resolved to
    /// `indices` (from ``resolve(_:in:)``): each the quoted name of the
    /// link with that index now (`name`), else the number.
    static func listing(_ parsed: Parsed, indices: [[Int32]], name: (Int32) -> String?) -> String {
        guard !parsed.interfaces.isEmpty else { return parsed.text }
        var text = parsed.pieces[0]
        for (position, operand) in parsed.interfaces.enumerated() {
            let shown = indices[position].map { index in name(index).map { "\"\($0)\"" } ?? String(index) }
            text += operand.isSet ? "{ \(shown.joined(separator: ", ")) }" : shown[0]
            text += parsed.pieces[position + 1]
        }
        return text
    }

    /// Canonicalises one set element of a set of `type`.
    static func element(_ text: String, type: String, isMap: Bool) throws(Refusal) -> String {
        let kind = ValueKind(setType: type)
        guard isMap else { return try kind.canonical(text.trimmed) }
        // A map element is KEY : VALUE; IPv6 keys hold colons of their own.
        let colon = text.firstRange(of: " : ") ?? text.lastIndex(of: ":").map { $0..<text.index(after: $0) }
        guard let colon else { throw Refusal(message: "syntax error, a map element is KEY : VALUE") }
        let key = try kind.canonical(String(text[..<colon.lowerBound]).trimmed)
        return "\(key) : \(String(text[colon.upperBound...]).trimmed)"
    }

    /// Sorts elements as nft lists them (numbers and addresses by value).
    static func sortedElements(_ elements: [String], type: String) -> [String] {
        ValueKind(setType: type).sorted(elements)
    }

    /// An ASCII letter, then ASCII letters, digits, `_`, `-`, `.`, `/`.
    /// Checked byte by byte: every scalar must be ASCII, and the ASCII
    /// scalars with the Unicode Alphabetic property are exactly the letters.
    static func isName(_ name: String) -> Bool {
        func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") }
        guard let first = name.utf8.first, isLetter(first) else { return false }
        return name.utf8.allSatisfy { byte in
            isLetter(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "/")
        }
    }

    static func quote(_ text: String) -> String {
        text.hasPrefix("\"") ? text : "\"\(text)\""
    }

    private static func tokenize(_ rule: String) throws(Refusal) -> [String] {
        // NUL is the operand mark (nft reads a C string: it would end there).
        if rule.utf8.contains(0) { throw Refusal(message: "syntax error, unexpected NUL") }
        var tokens: [String] = []
        var current = ""
        var quoted = false
        for c in rule {
            if quoted {
                current.append(c)
                if c == "\"" {
                    quoted = false
                    tokens.append(current)
                    current = ""
                }
                continue
            }
            switch c {
            case "\"":
                if !current.isEmpty { tokens.append(current); current = "" }
                current = "\""
                quoted = true
            case " ", "\t":
                if !current.isEmpty { tokens.append(current); current = "" }
            case "{", "}", ",":
                if !current.isEmpty { tokens.append(current); current = "" }
                tokens.append(String(c))
            case "\n", ";":
                throw Refusal(message: "syntax error, one rule per entry")
            default:
                current.append(c)
            }
        }
        if quoted { throw Refusal(message: "syntax error, unterminated string") }
        if !current.isEmpty { tokens.append(current) }
        // "ct state a,b" arrives as a , b outside braces: glue it back.
        var glued: [String] = []
        var depth = 0
        for token in tokens {
            if token == "{" { depth += 1 }
            if token == "}" { depth -= 1 }
            if depth == 0, token == "," || glued.last?.hasSuffix(",") == true, var last = glued.popLast() {
                last += token
                glued.append(last)
                continue
            }
            glued.append(token)
        }
        return glued
    }

    enum ValueKind {
        /// `interface` is a name matched as a string (`iifname`, sets of
        /// type ifname); `ifindex` an `iif`/`oif` operand, kept as written
        /// by the parser and resolved by ``SimNftSyntax/resolve(_:in:)``.
        case ipv4, ipv6, port, proto, interface, ifindex, ctState, number, word

        init(setType: String) {
            switch setType.trimmed {
            case "ipv4_addr": self = .ipv4
            case "ipv6_addr": self = .ipv6
            case "inet_service": self = .port
            case "inet_proto": self = .proto
            case "ifname": self = .interface
            case "mark": self = .number
            default: self = .word
            }
        }

        func canonical(_ token: String) throws(Refusal) -> String {
            switch self {
            case .ipv4, .ipv6:
                let range = token.split(separator: "-", maxSplits: 1)
                if range.count == 2 {
                    return "\(try address(String(range[0])))-\(try address(String(range[1])))"
                }
                return try address(token)
            case .port:
                let range = token.split(separator: "-", maxSplits: 1)
                if range.count == 2 { return "\(try port(String(range[0])))-\(try port(String(range[1])))" }
                return try port(token)
            case .proto:
                guard let name = SimNftSyntax.protocols[token] else { throw Refusal(message: "Could not resolve protocol name") }
                return name
            case .interface:
                let bare = token.hasPrefix("\"") ? String(token.dropFirst().dropLast()) : token
                guard !bare.isEmpty, bare.count < 16 else { throw Refusal(message: "Invalid interface name") }
                return "\"\(bare)\""
            case .ctState:
                let states = token.split(separator: ",").map(String.init)
                for state in states where !SimNftSyntax.ctStates.contains(state) {
                    throw Refusal(message: "Could not parse conntrack state \(state)")
                }
                return SimNftSyntax.ctStates.filter(states.contains).joined(separator: ",")
            case .number:
                guard UInt32(token) != nil else { throw Refusal(message: "Could not parse number \(token)") }
                return token
            case .word, .ifindex:
                guard !token.isEmpty, token != "{", token != "}" else { throw Refusal(message: "syntax error, unexpected \(token)") }
                return token
            }
        }

        private func port(_ token: String) throws(Refusal) -> String {
            if let service = SimNftSyntax.services[token] { return service }
            guard let number = UInt16(token) else { throw Refusal(message: "Could not resolve service: Servname not supported for ai_socktype") }
            return String(number)
        }

        private func address(_ token: String) throws(Refusal) -> String {
            let parts = token.split(separator: "/", maxSplits: 1)
            guard let ip = try? IPAddress(String(parts[0])), (ip.family == .ipv4) == (self == .ipv4) else {
                throw Refusal(message: "Could not resolve hostname: \(token)")
            }
            guard parts.count == 2 else { return ip.description }
            guard let length = UInt8(parts[1]), Int(length) <= ip.family.bitWidth else {
                throw Refusal(message: "Could not parse prefix length \(parts[1])")
            }
            return "\(ip.masked(to: Int(length)))/\(length)"
        }

        func sorted(_ values: [String]) -> [String] {
            switch self {
            case .port, .number:
                return values.sorted { (UInt32($0.prefix { $0 != "-" && $0 != " " }) ?? 0) < (UInt32($1.prefix { $0 != "-" && $0 != " " }) ?? 0) }
            case .ipv4, .ipv6:
                func key(_ text: String) -> IPAddress? { try? IPAddress(String(text.prefix { $0 != "/" && $0 != "-" && $0 != " " })) }
                return values.sorted { a, b in
                    guard let x = key(a), let y = key(b) else { return a < b }
                    return x < y
                }
            default:
                return values.sorted()
            }
        }
    }
}

extension String {
    /// Whitespace Characters trimmed from both ends (the reconciler's trim:
    /// text with nothing to trim comes back without a copy).
    var trimmed: String { trimmingWhitespace }
}

/// The rules ``SimNftSyntax/parse(_:family:)`` parsed, shared by every
/// simulated kernel of the process. Bounded: past `capacity` rules it
/// starts over, so arbitrary input cannot grow it without end.
private final class ParsedRules: Sendable {
    struct Key: Hashable, Sendable {
        var rule: String
        var family: NftFamily
    }

    static let shared = ParsedRules()
    private static let capacity = 4096
    private let rules = Mutex<[Key: SimNftSyntax.Parsed]>([:])

    func lookup(_ key: Key) -> SimNftSyntax.Parsed? { rules.withLock { $0[key] } }

    func store(_ parsed: SimNftSyntax.Parsed, for key: Key) {
        rules.withLock { rules in
            if rules.count >= Self.capacity { rules.removeAll(keepingCapacity: true) }
            rules[key] = parsed
        }
    }
}
