import LinxReconcile

/// Reads what `nft -a -s -y list table` prints (handles, no counter values,
/// numeric priorities) back into an ``NftObservedTable``: the rule text is
/// exactly nft's, which is the canonical form rules are compared in.
enum NftListing {
    struct Malformed: Error {
        var line: String
    }

    static func parse(_ text: String, ref: NftTableRef) throws(Malformed) -> NftObservedTable {
        var table = NftObservedTable(ref: ref)
        enum Block { case table, set(NftSet), chain(NftObservedChain) }
        var block: Block = .table
        var pendingElements: String? = nil
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimmed
            if line.isEmpty { continue }
            if var elements = pendingElements {
                // Let go of the stored copy first, so appending does not copy the text (10,000 elements).
                pendingElements = nil
                elements += " " + line
                if line.hasSuffix("}") {
                    guard case .set(var set) = block else { throw Malformed(line: line) }
                    set.elements = splitElements(elements)
                    block = .set(set)
                    pendingElements = nil
                } else {
                    pendingElements = elements
                }
                continue
            }
            switch block {
            case .table:
                if line.hasPrefix("table ") { continue }
                if line.hasPrefix("comment ") {
                    table.comment = unquote(String(line.dropFirst("comment ".count)))
                } else if line.hasPrefix("flags") {
                    for name in line.dropFirst("flags".count).split(separator: ",").map({ $0.trimmed }) {
                        switch name {
                        case "dormant": table.flags.insert(.dormant)
                        case "owner": table.flags.insert(.owner)
                        case "persist": table.flags.insert(.persist)
                        default: break
                        }
                    }
                } else if line.hasPrefix("set ") || line.hasPrefix("map ") {
                    let name = line.split(separator: " ")[1]
                    block = .set(NftSet(String(name), type: ""))
                } else if line.hasPrefix("chain ") {
                    let name = line.split(separator: " ")[1]
                    block = .chain(NftObservedChain(name: String(name), base: nil, rules: []))
                } else if line == "}" || line.hasPrefix("#") {
                    continue
                } else {
                    // flowtables, named objects: not modelled, not ours to judge.
                    continue
                }
            case .set(var set):
                if line == "}" {
                    table.sets.append(set)
                    block = .table
                } else if line.hasPrefix("type ") {
                    let parts = line.dropFirst("type ".count).split(separator: " : ", maxSplits: 1, omittingEmptySubsequences: false)
                    set = NftSet(set.name, type: parts[0].trimmed, dataType: parts.count > 1 ? parts[1].trimmed : nil, flags: set.flags, elements: set.elements)
                    block = .set(set)
                } else if line.hasPrefix("flags ") {
                    set = NftSet(set.name, type: set.type, dataType: set.dataType, flags: line.dropFirst("flags ".count).split(separator: ",").map { $0.trimmed }, elements: set.elements)
                    block = .set(set)
                } else if line.hasPrefix("elements = ") {
                    let rest = String(line.dropFirst("elements = ".count))
                    if rest.hasSuffix("}") {
                        set.elements = splitElements(rest)
                        block = .set(set)
                    } else {
                        pendingElements = rest
                    }
                }
            case .chain(var chain):
                if line == "}" {
                    table.chains.append(chain)
                    block = .table
                } else if line.hasPrefix("type "), chain.rules.isEmpty, chain.base == nil, let base = baseChain(line) {
                    chain.base = base
                    block = .chain(chain)
                } else if let mark = line.lastRange(of: " # handle ") {
                    let handle = UInt64(line[mark.upperBound...]) ?? 0
                    // The same: without this the append copies every rule so far (quadratic).
                    block = .table
                    chain.rules.append(NftObservedRule(handle: handle, text: String(line[..<mark.lowerBound])))
                    block = .chain(chain)
                } else {
                    throw Malformed(line: line)
                }
            }
        }
        return table
    }

    /// `type filter hook input priority 10; policy drop;`
    static func baseChain(_ line: String) -> NftBaseChain? {
        var words = line.split(whereSeparator: { $0 == " " || $0 == ";" }).map(String.init)[...]
        var type: NftChainType?, hook: NftHook?, priority: Int32 = 0, policy = NftPolicy.accept
        while let word = words.popFirst() {
            switch word {
            case "type": type = words.popFirst().flatMap(NftChainType.init(rawValue:))
            case "hook": hook = words.popFirst().flatMap(NftHook.init(rawValue:))
            case "priority": priority = words.popFirst().flatMap { Int32($0) } ?? 0
            case "policy": policy = words.popFirst().flatMap(NftPolicy.init(rawValue:)) ?? .accept
            default: continue
            }
        }
        guard let type, let hook else { return nil }
        return NftBaseChain(type: type, hook: hook, priority: priority, policy: policy)
    }

    /// `{ a, b, c }` -> [a, b, c] (no element of the types Linx lists holds a comma).
    static func splitElements(_ text: String) -> [String] {
        var body = text.trimmed
        if body.hasPrefix("{") { body.removeFirst() }
        if body.hasSuffix("}") { body.removeLast() }
        return body.split(separator: ",").map { $0.trimmed }.filter { !$0.isEmpty }
    }

    static func unquote(_ text: String) -> String {
        var t = text.trimmed
        if t.hasPrefix("\""), t.hasSuffix("\""), t.count >= 2 {
            t.removeFirst()
            t.removeLast()
        }
        return t
    }
}

extension StringProtocol {
    var trimmed: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }

    func lastRange(of needle: String) -> Range<Index>? {
        var found: Range<Index>?
        var start = startIndex
        while let range = self[start...].firstRange(of: needle) {
            found = range
            start = index(after: range.lowerBound)
        }
        return found
    }
}
