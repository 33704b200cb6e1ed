import LinxReconcile

extension HostDocument {
    /// The document as YAML, in the form ``load(path:)`` reads back to an
    /// equal document: one line per entry, flow mappings for list items.
    /// A kind that is not managed is left out; one managed as empty is `[]`.
    public var yaml: String {
        var out = YAMLWriter()
        if let rtnl {
            out.line(0, "rtnl:")
            if rtnl.options.routeProtocol != RtnlOptions.default.routeProtocol {
                out.line(1, "protocol: \(rtnl.options.routeProtocol)")
            }
            if let tag = rtnl.options.addressProtocol { out.line(1, "addressProtocol: \(tag)") }
            if rtnl.options.adoptExistingAddresses { out.line(1, "adoptExistingAddresses: true") }
            if let addresses = rtnl.desired.addresses {
                out.list(1, "addresses", addresses.map { Self.fields($0) })
            }
            if let routes = rtnl.desired.routes {
                out.list(1, "routes", routes.map { Self.fields($0) })
            }
        }
        if let sysctl {
            out.line(0, "sysctl:")
            if sysctl.options.revertOnRelease { out.line(1, "revertOnRelease: true") }
            if sysctl.options.allowHostWideKeys { out.line(1, "allowHostWideKeys: true") }
            if let desired = sysctl.desired {
                out.map(1, "keys", desired.values.sorted { $0.key < $1.key }.map { ($0.key, Self.scalar($0.value)) })
            }
        }
        if !cgroups.isEmpty {
            out.line(0, "cgroups:")
            for cgroup in cgroups {
                out.map(1, cgroup.path, cgroup.desired.files.sorted { $0.key < $1.key }.map { ($0.key, Self.scalar($0.value)) })
            }
        }
        nftables?.writeYAML(to: &out)
        return out.text
    }

    /// The document as JSON, in the same shape (keys in the order ``yaml``
    /// writes them).
    public var json: String {
        var sections: [(String, JSONValue)] = []
        if let rtnl {
            var fields: [(String, JSONValue)] = []
            if rtnl.options.routeProtocol != RtnlOptions.default.routeProtocol {
                fields.append(("protocol", .number(Int(rtnl.options.routeProtocol))))
            }
            if let tag = rtnl.options.addressProtocol { fields.append(("addressProtocol", .number(Int(tag)))) }
            if rtnl.options.adoptExistingAddresses { fields.append(("adoptExistingAddresses", .bool(true))) }
            if let addresses = rtnl.desired.addresses {
                fields.append(("addresses", .array(addresses.map { .object(Self.fields($0).map { ($0.0, $0.1.json) }) })))
            }
            if let routes = rtnl.desired.routes {
                fields.append(("routes", .array(routes.map { .object(Self.fields($0).map { ($0.0, $0.1.json) }) })))
            }
            sections.append(("rtnl", .object(fields)))
        }
        if let sysctl {
            var fields: [(String, JSONValue)] = []
            if sysctl.options.revertOnRelease { fields.append(("revertOnRelease", .bool(true))) }
            if sysctl.options.allowHostWideKeys { fields.append(("allowHostWideKeys", .bool(true))) }
            if let desired = sysctl.desired {
                fields.append(("keys", .object(desired.values.sorted { $0.key < $1.key }.map { ($0.key, Self.scalar($0.value).json) })))
            }
            sections.append(("sysctl", .object(fields)))
        }
        if !cgroups.isEmpty {
            sections.append(("cgroups", .object(cgroups.map { cgroup in
                (cgroup.path, .object(cgroup.desired.files.sorted { $0.key < $1.key }.map { ($0.key, Self.scalar($0.value).json) }))
            })))
        }
        if let nftables { sections.append(("nftables", nftables.json)) }
        var text = ""
        JSONValue.object(sections).write(to: &text, indent: 0)
        return text + "\n"
    }

    private static func fields(_ entry: RtnlAddressEntry) -> [(String, Scalar)] {
        [("interface", .text(entry.interface)), ("address", .text(entry.address))]
    }

    private static func fields(_ entry: RtnlRouteEntry) -> [(String, Scalar)] {
        var fields: [(String, Scalar)] = [("destination", .text(entry.destination))]
        if let gateway = entry.gateway { fields.append(("gateway", .text(gateway))) }
        if let interface = entry.interface { fields.append(("interface", .text(interface))) }
        if let table = entry.table { fields.append(("table", .number(Int(table)))) }
        if let metric = entry.metric { fields.append(("metric", .number(Int(metric)))) }
        return fields
    }

    private static func scalar(_ value: SysctlValue) -> Scalar {
        switch value {
        case .integer(let number): .number(number)
        case .string(let text): .text(text)
        }
    }

    private static func scalar(_ value: CgroupValue) -> Scalar {
        switch value {
        case .integer(let number): .number(number)
        case .max: .text("max")
        case .cpuMax(let quota, let period): .fields([("quota", quota.map(Scalar.number) ?? .text("max")), ("period", .number(period))])
        case .raw(let text): .text(text)
        }
    }

    /// A value as the writers print it.
    indirect enum Scalar {
        case text(String)
        case number(Int)
        case fields([(String, Scalar)])

        var json: JSONValue {
            switch self {
            case .text(let text): .string(text)
            case .number(let number): .number(number)
            case .fields(let fields): .object(fields.map { ($0.0, $0.1.json) })
            }
        }

        var yaml: String {
            switch self {
            case .text(let text): YAMLWriter.quoted(text)
            case .number(let number): String(number)
            case .fields(let fields): "{ " + fields.map { "\($0.0): \($0.1.yaml)" }.joined(separator: ", ") + " }"
            }
        }
    }
}

/// Lines of YAML, two spaces an indent level.
struct YAMLWriter {
    var text = ""

    mutating func line(_ level: Int, _ content: String) {
        text += String(repeating: "  ", count: level) + content + "\n"
    }

    mutating func list(_ level: Int, _ key: String, _ items: [[(String, HostDocument.Scalar)]]) {
        guard !items.isEmpty else { return line(level, "\(Self.quoted(key)): []") }
        line(level, "\(Self.quoted(key)):")
        for item in items { line(level + 1, "- " + HostDocument.Scalar.fields(item).yaml) }
    }

    mutating func map(_ level: Int, _ key: String, _ entries: [(String, HostDocument.Scalar)]) {
        guard !entries.isEmpty else { return line(level, "\(Self.quoted(key)): {}") }
        line(level, "\(Self.quoted(key)):")
        for (name, value) in entries { line(level + 1, "\(Self.quoted(name)): \(value.yaml)") }
    }

    /// `text` bare when YAML reads it back as the same string, else double-quoted.
    static func quoted(_ text: String) -> String {
        let plain = !text.isEmpty && text.utf8.allSatisfy { safe.contains($0) }
            && !["~", "null", "Null", "NULL"].contains(text) && text.utf8.first != UInt8(ascii: "-")
        if plain { return text }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./+-".utf8)
}

/// A JSON value written in a fixed key order, with two-space indents.
indirect enum JSONValue {
    case string(String)
    case number(Int)
    case bool(Bool)
    case array([JSONValue])
    case object([(String, JSONValue)])

    func write(to out: inout String, indent: Int) {
        let pad = String(repeating: "  ", count: indent + 1)
        switch self {
        case .string(let text): Self.quote(text, into: &out)
        case .number(let number): out += String(number)
        case .bool(let value): out += value ? "true" : "false"
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                item.write(to: &out, indent: indent + 1)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: "  ", count: indent) + "]"
        case .object(let fields):
            guard !fields.isEmpty else { out += "{}"; return }
            out += "{\n"
            for (i, (key, value)) in fields.enumerated() {
                out += pad
                Self.quote(key, into: &out)
                out += ": "
                value.write(to: &out, indent: indent + 1)
                out += i == fields.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: "  ", count: indent) + "}"
        }
    }

    static func quote(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
