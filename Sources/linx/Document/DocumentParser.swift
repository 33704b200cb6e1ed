import Foundation
import LinxReconcile
import Yams

/// Reads a desired-state file (YAML, or JSON, which YAML reads too) into a
/// ``HostDocument``, checking its structure fully: unknown keys, wrong types
/// and malformed values are reported with their line before anything runs.
/// Checks that need the kernel (does `eth0` exist?) happen in the
/// reconcilers' plan step, which also runs for every section before any
/// section is applied.
struct DocumentParser {
    let file: String

    static func load(path: String) throws -> HostDocument {
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(path)
        } catch {
            throw DocumentError(file: path, line: nil, entry: "file", reason: "cannot read it (\(error.description))")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DocumentError(file: path, line: nil, entry: "file", reason: "not UTF-8 text")
        }
        return try DocumentParser(file: path).parse(text)
    }

    func parse(_ text: String) throws -> HostDocument {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            throw DocumentError(file: file, line: context.mark.line, entry: "document", reason: "\(keys) given twice in one mapping")
        } catch let error as YamlError {
            throw DocumentError(file: file, line: Self.line(of: error), entry: "document", reason: "not valid YAML or JSON: " + Self.reason(of: error))
        }
        var document = HostDocument(file: file)
        guard let root else { return document }
        let top = try mapping(root, "document")
        for (key, value) in top {
            switch key.string {
            case "rtnl": document.rtnl = try rtnl(value, &document.lines)
            case "sysctl": document.sysctl = try sysctl(value, &document.lines)
            case "cgroups": document.cgroups = try cgroups(value)
            default: throw unknown(key, in: "document", allowed: ["rtnl", "sysctl", "cgroups"])
            }
        }
        return document
    }

    // MARK: sections

    private func rtnl(_ node: Node, _ lines: inout [String: Int]) throws -> HostDocument.Rtnl {
        var section = HostDocument.Rtnl(desired: .empty, options: .default)
        for (key, value) in try mapping(node, "rtnl") {
            switch key.string {
            case "protocol": section.options.routeProtocol = try uint8(value, "rtnl.protocol")
            case "addressProtocol": section.options.addressProtocol = try uint8(value, "rtnl.addressProtocol")
            case "addresses":
                for (i, item) in try sequence(value, "rtnl.addresses").enumerated() {
                    let path = "rtnl.addresses[\(i)]"
                    let fields = try fields(item, path, allowed: ["interface", "address"])
                    let entry = RtnlAddressEntry(
                        interface: try string(fields, "interface", path, in: item, required: true)!,
                        address: try string(fields, "address", path, in: item, required: true)!)
                    // The text before the first '/' (all of it when there is none,
                    // or "" for an empty value, which IPAddress refuses by name).
                    let host = entry.address.prefix { $0 != "/" }
                    try check(path, item) { () throws(ValueError) in _ = try IPAddress(String(host)) }
                    section.desired.addresses.append(entry)
                    // The name the rtnl normaliser gives this entry in its errors.
                    lines["addresses[\(i)] (\(entry))"] = item.mark?.line
                }
            case "routes":
                for (i, item) in try sequence(value, "rtnl.routes").enumerated() {
                    let path = "rtnl.routes[\(i)]"
                    let fields = try fields(item, path, allowed: ["destination", "gateway", "interface", "table", "metric"])
                    let entry = RtnlRouteEntry(
                        destination: try string(fields, "destination", path, in: item, required: true)!,
                        gateway: try string(fields, "gateway", path, in: item),
                        interface: try string(fields, "interface", path, in: item),
                        table: try fields["table"].map { try uint32($0, "\(path).table") },
                        metric: try fields["metric"].map { try uint32($0, "\(path).metric") })
                    if entry.destination != "default" {
                        try check(path, item) { () throws(ValueError) in _ = try IPPrefix(entry.destination) }
                    }
                    if let gateway = entry.gateway {
                        try check(path, item) { () throws(ValueError) in _ = try IPAddress(gateway) }
                    }
                    section.desired.routes.append(entry)
                    lines["routes[\(i)] (\(entry))"] = item.mark?.line
                }
            default: throw unknown(key, in: "rtnl", allowed: ["protocol", "addressProtocol", "addresses", "routes"])
            }
        }
        return section
    }

    private func sysctl(_ node: Node, _ lines: inout [String: Int]) throws -> HostDocument.Sysctl {
        var section = HostDocument.Sysctl(desired: .empty, options: .default)
        for (key, value) in try mapping(node, "sysctl") {
            switch key.string {
            case "revertOnRelease": section.options.revertOnRelease = try bool(value, "sysctl.revertOnRelease")
            case "allowHostWideKeys": section.options.allowHostWideKeys = try bool(value, "sysctl.allowHostWideKeys")
            case "keys":
                for (name, raw) in try mapping(value, "sysctl.keys") {
                    let keyText = try scalar(name, "sysctl.keys").string
                    let path = "sysctl.keys.\(keyText)"
                    try check(path, name) { () throws(ValueError) in _ = try SysctlKey(keyText) }
                    let text = try scalar(raw, path).string
                    section.desired.values[keyText] = Int(text).map(SysctlValue.integer) ?? .string(text)
                    // The names the sysctl reconciler gives entries in its errors.
                    if let parsed = try? SysctlKey(keyText) { lines["sysctl \(parsed)"] = name.mark?.line }
                    lines["sysctl \"\(keyText)\""] = name.mark?.line
                }
            default: throw unknown(key, in: "sysctl", allowed: ["revertOnRelease", "allowHostWideKeys", "keys"])
            }
        }
        return section
    }

    private func cgroups(_ node: Node) throws -> [HostDocument.Cgroup] {
        var result: [HostDocument.Cgroup] = []
        for (pathNode, filesNode) in try mapping(node, "cgroups") {
            let path = try scalar(pathNode, "cgroups").string
            guard path.hasPrefix("/") else {
                throw DocumentError(file: file, line: pathNode.mark?.line, entry: "cgroups.\(path)", reason: "a cgroup is named by its absolute directory path")
            }
            var desired = CgroupDesiredState()
            var lines: [String: Int] = [:]
            for (fileNode, valueNode) in try mapping(filesNode, "cgroups.\(path)") {
                let name = try scalar(fileNode, "cgroups.\(path)").string
                let entry = "cgroups.\(path).\(name)"
                switch valueNode {
                case .mapping:
                    let fields = try fields(valueNode, entry, allowed: ["quota", "period"])
                    guard let period = try fields["period"].map({ try int($0, "\(entry).period") }) else {
                        throw DocumentError(file: file, line: valueNode.mark?.line, entry: entry, reason: "a { quota, period } value (cpu.max's form) needs a period")
                    }
                    let quota = try fields["quota"].flatMap { $0.string == "max" ? nil : try int($0, "\(entry).quota") }
                    desired.files[name] = .cpuMax(quota: quota, period: period)
                default:
                    let text = try scalar(valueNode, entry).string
                    desired.files[name] = CgroupValue(parsing: text)
                }
                // The reconciler names a file both quoted and bare.
                lines["cgroup file \"\(name)\""] = fileNode.mark?.line
                lines["cgroup file \(name)"] = fileNode.mark?.line
            }
            result.append(HostDocument.Cgroup(path: path, desired: desired, lines: lines))
        }
        return result
    }

    // MARK: node helpers

    private func mapping(_ node: Node, _ path: String) throws -> [(Node, Node)] {
        guard case .mapping(let mapping) = node else {
            throw DocumentError(file: file, line: node.mark?.line, entry: path, reason: "expected a mapping (key: value)")
        }
        return mapping.map { ($0.key, $0.value) }
    }

    private func sequence(_ node: Node, _ path: String) throws -> [Node] {
        guard case .sequence(let sequence) = node else {
            throw DocumentError(file: file, line: node.mark?.line, entry: path, reason: "expected a list")
        }
        return Array(sequence)
    }

    private func scalar(_ node: Node, _ path: String) throws -> Node.Scalar {
        guard case .scalar(let scalar) = node else {
            throw DocumentError(file: file, line: node.mark?.line, entry: path, reason: "expected a single value")
        }
        return scalar
    }

    private func fields(_ node: Node, _ path: String, allowed: [String]) throws -> [String: Node] {
        var result: [String: Node] = [:]
        for (key, value) in try mapping(node, path) {
            let name = try scalar(key, path).string
            guard allowed.contains(name) else { throw unknown(key, in: path, allowed: allowed) }
            result[name] = value
        }
        return result
    }

    /// The field `name` of the entry `item`, or nil when absent. A missing
    /// required field is reported on the entry's line, as it has none of its own.
    private func string(_ fields: [String: Node], _ name: String, _ path: String, in item: Node, required: Bool = false) throws -> String? {
        guard let node = fields[name] else {
            if required { throw DocumentError(file: file, line: item.mark?.line, entry: path, reason: "missing \"\(name)\"") }
            return nil
        }
        return try scalar(node, "\(path).\(name)").string
    }

    private func int(_ node: Node, _ path: String) throws -> Int {
        guard let value = Int(try scalar(node, path).string) else {
            throw DocumentError(file: file, line: node.mark?.line, entry: path, reason: "expected an integer, got \"\(node.string ?? "")\"")
        }
        return value
    }

    private func uint32(_ node: Node, _ path: String) throws -> UInt32 {
        guard let value = UInt32(exactly: try int(node, path)) else {
            throw DocumentError(file: file, line: node.mark?.line, entry: path, reason: "out of range (0...\(UInt32.max))")
        }
        return value
    }

    private func uint8(_ node: Node, _ path: String) throws -> UInt8 {
        guard let value = UInt8(exactly: try int(node, path)) else {
            throw DocumentError(file: file, line: node.mark?.line, entry: path, reason: "out of range (0...255)")
        }
        return value
    }

    private func bool(_ node: Node, _ path: String) throws -> Bool {
        switch try scalar(node, path).string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw DocumentError(file: file, line: node.mark?.line, entry: path, reason: "expected true or false")
        }
    }

    private func check(_ path: String, _ node: Node, _ body: () throws(ValueError) -> Void) throws {
        do {
            try body()
        } catch {
            throw DocumentError(file: file, line: node.mark?.line, entry: path, reason: "\(error)")
        }
    }

    private func unknown(_ key: Node, in path: String, allowed: [String]) -> DocumentError {
        DocumentError(
            file: file, line: key.mark?.line, entry: path,
            reason: "unknown key \"\(key.string ?? "?")\" (expected one of: \(allowed.joined(separator: ", ")))")
    }

    /// The parser's own words, without the copy of the offending line Yams
    /// appends (a 100k-deep nesting would echo 200 KB), on one bounded line.
    private static func reason(of error: YamlError) -> String {
        let text: String
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let during = context.map { "\($0.text) at \($0.mark.line):\($0.mark.column)" }
            text = "\(problem) at \(mark.line):\(mark.column)" + (during.map { " (\($0))" } ?? "")
        default:
            text = "\(error)"
        }
        let line = text.split(whereSeparator: \.isNewline).joined(separator: "; ")
        return line.count > 240 ? line.prefix(240) + "..." : line
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: nil
        }
    }
}
