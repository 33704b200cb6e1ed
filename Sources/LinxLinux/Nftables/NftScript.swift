import LinxReconcile

/// A transaction as the nft script libnftables reads, one line per command,
/// and which command each line carries (nft names the failing line).
///
/// The rules a batch adds to a chain the same batch creates are written as
/// that chain's block (`add chain T C {`, one rule a line, `}`), the way
/// `nft -f` input is usually written: nft then parses each rule without
/// the `add rule T C` prefix, which is most of what a cold pass of
/// thousands of rules costs in nft's parser besides the rules themselves.
/// Re-declaring the chain changes nothing in it (no type, hook or policy is
/// given; checked on Linux 6.18: a `policy drop` base chain keeps it). A
/// chain that existed before the batch is never re-declared, nor one the
/// batch deleted after creating it: if it vanished meanwhile, its block
/// would create it, where `add rule` fails.
struct NftScript {
    /// The script, newline-terminated lines.
    var text = ""
    /// For each 0-based line, the index of the command it carries.
    var commandOfLine: [Int] = []
    /// The first command whose text would not stay one command in nft's
    /// reading (``NftCommand/textProblem``), and why: such a script is
    /// never run (a `;` in a set type once ran the rest as commands of its
    /// own). The reconciler refuses such a desired table before; this
    /// holds for anyone calling the backend.
    var refusal: (command: Int, reason: String)?

    init(_ commands: [NftCommand]) {
        for (index, command) in commands.enumerated() {
            if let reason = command.textProblem {
                refusal = (index, reason)
                return
            }
        }
        text.reserveCapacity(commands.count * 64)
        var created: Set<ChainKey> = []
        var index = 0
        while index < commands.count {
            let command = commands[index]
            switch command {
            case .addChain(let table, let name, _): created.insert(ChainKey(table: table, chain: name))
            // Gone again: a block would create it anew, where `add rule` fails.
            case .deleteChain(let table, let name): created.remove(ChainKey(table: table, chain: name))
            case .deleteTable(let table): created = created.filter { $0.table != table }
            default: break
            }
            guard case .addRule(let table, let chain, let rule, nil) = command,
                created.contains(ChainKey(table: table, chain: chain)), Self.foldable(rule), Self.namesNoSet(rule)
            else {
                append(command.description, for: index)
                index += 1
                continue
            }
            append("add chain \(table) \(chain) {", for: index)
            var last = index
            while last < commands.count, case .addRule(table, chain, let rule, nil) = commands[last], Self.foldable(rule), Self.namesNoSet(rule) {
                append(rule, for: last)
                last += 1
            }
            append("}", for: last - 1)
            index = last
        }
    }

    /// A script of `lines` as they are, one command each.
    init(lines: [String]) {
        for (index, line) in lines.enumerated() { append(line, for: index) }
    }

    private mutating func append(_ line: String, for command: Int) {
        text += line
        text += "\n"
        commandOfLine.append(command)
    }

    /// Whether a rule uses no named set (`@name`, or an `@` anywhere). nft
    /// 1.0.6 resolves the sets of a chain block's rules without reading the
    /// kernel's sets, unless the batch also holds an `add rule` that uses
    /// one (observed on Linux 6.18: `add chain T c {` / `ip saddr @s drop` /
    /// `}` with set s in the table is ENOENT; with a set the batch
    /// re-declares with another type, the rule is checked against the new
    /// type where `add rule` checks it against the kernel's). Written as
    /// `add rule`, such a rule is resolved as it reads, and so are the blocks.
    static func namesNoSet(_ rule: String) -> Bool {
        !rule.utf8.contains(UInt8(ascii: "@"))
    }

    /// Whether a rule reads the same inside a chain block: there, a line
    /// starting with a chain property's keyword would be that property.
    static func foldable(_ rule: String) -> Bool {
        // Checked per rule of a cold pass (10,000 and more): compare the
        // first word's bytes only with the keywords of its length.
        var rule = rule
        return rule.withUTF8 { bytes in
            let length = bytes.firstIndex { $0 == 0x20 || $0 == 0x09 } ?? bytes.count
            guard length < chainKeywordsByLength.count else { return true }
            let first = UnsafeBufferPointer(rebasing: bytes[..<length])
            return !chainKeywordsByLength[length].contains { $0.elementsEqual(first) }
        }
    }

    private static let chainKeywords = [
        "type", "hook", "priority", "policy", "comment", "flags", "device", "devices",
        "define", "redefine", "undefine", "include", "}",
    ]

    /// ``chainKeywords`` as bytes, indexed by their length.
    private static let chainKeywordsByLength: [[[UInt8]]] = {
        var byLength = [[[UInt8]]](repeating: [], count: chainKeywords.map(\.utf8.count).max()! + 1)
        for keyword in chainKeywords { byLength[keyword.utf8.count].append(Array(keyword.utf8)) }
        return byLength
    }()

    private struct ChainKey: Hashable {
        var table: NftTableRef
        var chain: String
    }
}
