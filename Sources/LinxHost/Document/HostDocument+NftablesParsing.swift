import LinxReconcile

/// Reading the `nftables` section:
///
/// ```yaml
/// nftables:
///   lifetime: persistent          # or owned, ownedPersistent
///   tables:
///     inet linx:
///       chains:
///         input:                  # a base chain: it has a hook
///           hook: input
///           type: filter          # default filter
///           priority: 0           # default 0
///           policy: drop          # default accept
///           rules:
///             - tcp dport 22 accept
///         web:                    # a regular chain: no hook
///           rules: [ "tcp dport 80 accept" ]
///       sets:
///         blocked:
///           type: ipv4_addr
///           map: verdict          # a map: its data type
///           flags: [interval]
///           elements: [ 192.0.2.0/24 ]
///     ip old: absent              # this table should not exist
/// ```
///
/// Rules and elements are nft syntax, one per entry; they are checked by
/// the kernel (nft's parser) when planning, and an error names the entry's
/// line.
extension HostDocument.Nftables {
    static let keys = ["marker", "lifetime", "maxRetries", "tables"]
    static let tableKeys = ["chains", "sets"]
    static let chainKeys = ["hook", "type", "priority", "policy", "rules"]
    static let setKeys = ["type", "map", "flags", "elements"]

    static func read(_ reader: inout DocumentReader) throws(HostDocumentError) -> Self {
        var section = Self()
        let root: DesiredPath = ["nftables"]
        try reader.mapping(try reader.next(), at: root) { (reader, key, line) throws(HostDocumentError) in
            let path = root.appending(.key(key))
            reader.origin.record(path, line: line)
            switch key {
            case "marker": section.options.marker = try reader.scalar(at: path).text
            case "lifetime":
                let value = try reader.scalar(at: path)
                guard let lifetime = NftTableLifetime(rawValue: value.text) else {
                    throw reader.fail(path, value.line, "expected one of \(NftTableLifetime.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(value.text.prefix(40))\"")
                }
                section.options.lifetime = lifetime
            case "maxRetries": section.options.maxRetries = Int(try reader.integer(UInt8.self, at: path))
            case "tables":
                try reader.mapping(try reader.next(), at: path) { (reader, name, line) throws(HostDocumentError) in
                    let entry = path.appending(.key(name))
                    reader.origin.record(entry, line: line)
                    let ref = try tableRef(name, reader: reader, at: entry, line: line)
                    section.tables.append(Table(ref: ref, desired: try table(&reader, at: entry)))
                }
            default: throw reader.unknown(key, line: line, in: root, allowed: keys)
            }
        }
        return section
    }

    /// `inet linx` (a family and a name, as nft names a table).
    private static func tableRef(_ text: String, reader: DocumentReader, at path: DesiredPath, line: Int) throws(HostDocumentError) -> NftTableRef {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count == 2, let family = NftFamily(rawValue: String(words[0])) else {
            throw reader.fail(path, line, "a table is named by its family and name, such as \"inet linx\" (families: \(NftFamily.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return NftTableRef(family, String(words[1]))
    }

    /// A table's content, or nil for `absent`.
    private static func table(_ reader: inout DocumentReader, at path: DesiredPath) throws(HostDocumentError) -> NftTable? {
        let start = try reader.next()
        if case .scalar(let text, _) = start.event {
            guard text == "absent" else {
                throw reader.fail(path, start.line, "expected a table (chains, sets) or absent, got \"\(text.prefix(40))\"")
            }
            return nil
        }
        var table = NftTable()
        try reader.mapping(start, at: path) { (reader, key, line) throws(HostDocumentError) in
            let kind = path.appending(.key(key))
            reader.origin.record(kind, line: line)
            switch key {
            case "chains":
                try reader.mapping(try reader.next(), at: kind) { (reader, name, line) throws(HostDocumentError) in
                    let entry = kind.appending(.key(name))
                    reader.origin.record(entry, line: line)
                    table.chains.append(try chain(name, &reader, at: entry, line: line))
                }
            case "sets":
                try reader.mapping(try reader.next(), at: kind) { (reader, name, line) throws(HostDocumentError) in
                    let entry = kind.appending(.key(name))
                    reader.origin.record(entry, line: line)
                    table.sets.append(try set(name, &reader, at: entry, line: line))
                }
            default: throw reader.unknown(key, line: line, in: path, allowed: tableKeys)
            }
        }
        return table
    }

    private static func chain(_ name: String, _ reader: inout DocumentReader, at path: DesiredPath, line: Int) throws(HostDocumentError) -> NftChain {
        var hook: NftHook?, type = NftChainType.filter, priority: Int32 = 0, policy = NftPolicy.accept
        var baseOnly: (key: String, line: Int)?
        var rules: [String] = []
        try reader.mapping(try reader.next(), at: path) { (reader, key, keyLine) throws(HostDocumentError) in
            let field = path.appending(.key(key))
            reader.origin.record(field, line: keyLine)
            switch key {
            case "hook": hook = try choice(NftHook.self, &reader, at: field)
            case "type":
                type = try choice(NftChainType.self, &reader, at: field)
                baseOnly = baseOnly ?? (key, keyLine)
            case "priority":
                priority = try reader.integer(Int32.self, at: field)
                baseOnly = baseOnly ?? (key, keyLine)
            case "policy":
                policy = try choice(NftPolicy.self, &reader, at: field)
                baseOnly = baseOnly ?? (key, keyLine)
            case "rules": rules = try list(&reader, at: field)
            default: throw reader.unknown(key, line: keyLine, in: path, allowed: chainKeys)
            }
        }
        if hook == nil, let (key, keyLine) = baseOnly {
            throw reader.fail(path.appending(.key(key)), keyLine, "\"\(key)\" is for a base chain, which needs a \"hook\" (a regular chain has only rules)")
        }
        return NftChain(name, base: hook.map { NftBaseChain(type: type, hook: $0, priority: priority, policy: policy) }, rules: rules)
    }

    private static func set(_ name: String, _ reader: inout DocumentReader, at path: DesiredPath, line: Int) throws(HostDocumentError) -> NftSet {
        var type: String?, dataType: String?, flags: [String] = [], elements: [String] = []
        try reader.mapping(try reader.next(), at: path) { (reader, key, keyLine) throws(HostDocumentError) in
            let field = path.appending(.key(key))
            reader.origin.record(field, line: keyLine)
            switch key {
            case "type": type = try reader.scalar(at: field).text
            case "map": dataType = try reader.scalar(at: field).text
            case "flags": flags = try list(&reader, at: field)
            case "elements": elements = try list(&reader, at: field)
            default: throw reader.unknown(key, line: keyLine, in: path, allowed: setKeys)
            }
        }
        guard let type else { throw reader.fail(path, line, "missing \"type\" (such as ipv4_addr, inet_service)") }
        return NftSet(name, type: type, dataType: dataType, flags: flags, elements: elements)
    }

    /// A list of single values, each entry's line recorded.
    private static func list(_ reader: inout DocumentReader, at path: DesiredPath) throws(HostDocumentError) -> [String] {
        var values: [String] = [], lines: [Int32] = []
        try reader.sequence(try reader.next(), at: path) { (reader, item, index) throws(HostDocumentError) in
            guard case .scalar(let text, _) = item.event else {
                throw reader.fail(path.appending(.index(index)), item.line, "expected a single value (nft syntax), got \(item.event.summary)")
            }
            lines.append(Int32(clamping: item.line))
            values.append(text)
        }
        reader.origin.recordEntries(in: path, lines: lines)
        return values
    }

    private static func choice<Choice: RawRepresentable & CaseIterable>(
        _ type: Choice.Type, _ reader: inout DocumentReader, at path: DesiredPath
    ) throws(HostDocumentError) -> Choice where Choice.RawValue == String {
        let value = try reader.scalar(at: path)
        guard let choice = Choice(rawValue: value.text) else {
            throw reader.fail(path, value.line, "expected one of \(Choice.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(value.text.prefix(40))\"")
        }
        return choice
    }
}
