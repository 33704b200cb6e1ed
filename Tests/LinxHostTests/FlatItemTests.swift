import Foundation
@testable import LinxHost
import LinxReconcile
import Testing

/// List items read straight from the bytes (``FlatMapping``) against the
/// same items read through events: on every file, the same document, the
/// same line for every entry, or the same error.
@Suite("flat list items")
struct FlatItemTests {
    /// The document and entry lines, or the error.
    static func read(_ text: String, _ format: HostDocument.Format, flat: Bool) -> String {
        do {
            let document = try HostDocument.decode(Array(text.utf8), format: format, file: "f", flatItems: flat)
            let rtnl = document.rtnl?.desired
            var lines: [String] = []
            for kind in ["routes", "addresses"] {
                let count = kind == "routes" ? rtnl?.routes?.count ?? 0 : rtnl?.addresses?.count ?? 0
                for index in 0..<count {
                    lines.append("\(document.origin?.line(of: ["rtnl", .key(kind), .index(index)]) ?? -1)")
                }
            }
            return "\(String(describing: rtnl?.routes)) \(String(describing: rtnl?.addresses)) lines \(lines)"
        } catch {
            return "error \(error)"
        }
    }

    static let keys = ["destination", "gateway", "interface", "table", "metric", "address", "via", "Destination"]
    static let values = [
        "10.0.0.1/32", "default", "10.0.0.1", "fe80::1", "~", "null", "Null", "NULL", "nul", "''", "'q r'",
        "\"x\"", "\"\"", "5", "007", "4294967295", "4294967296", "-1", "+3", "true", "eth0", "a b", "{}", "[]",
        "1e3", "\"a\\\"b\"", "#c",
    ]

    /// One random item, written as YAML or JSON: mostly well-formed
    /// mappings of known keys, with repeats, unknown keys, odd values, and
    /// sometimes broken punctuation.
    static func item(_ generator: inout SplitMix, json: Bool, address: Bool) -> String {
        var pairs: [String] = []
        if generator.next() % 8 != 0 {
            // Well-formed, mostly.
            pairs = address
                ? ["interface: eth0", "address: 10.0.0.\(generator.next() % 300)/24"]
                : ["destination: 10.\(generator.next() % 300).0.0/16", "gateway: 10.0.0.1"]
            if !address, generator.next() % 3 == 0 { pairs.append("metric: \(values[13 + Int(generator.next() % 8)])") }
            if !address, generator.next() % 4 == 0 { pairs.append("interface: \(values[4 + Int(generator.next() % 6)])") }
            if generator.next() % 3 == 0 { pairs.reverse() }
            if json {
                pairs = pairs.map { pair in
                    let (key, value) = (pair.prefix { $0 != ":" }, pair.drop { $0 != " " }.dropFirst())
                    let bare = value.allSatisfy(\.isNumber) || value == "null" || value == "true"
                    return "\"\(key)\": " + (bare ? String(value) : "\"\(value)\"")
                }
            }
        }
        let count = pairs.isEmpty ? Int(generator.next() % 6) : 0
        for _ in 0..<count {
            let key = generator.next() % 3 == 0 ? keys[Int(generator.next() % UInt64(keys.count))] : keys[Int(generator.next() % 5)]
            var value = values[Int(generator.next() % UInt64(values.count))]
            if json, !value.hasPrefix("\""), generator.next() % 2 == 0 {
                value = "\"" + value.trimmingCharacters(in: CharacterSet(charactersIn: "'")) + "\""
            }
            pairs.append(json ? "\"\(key)\": \(value)" : "\(key): \(value)")
        }
        let separator = generator.next() % 8 == 0 ? " ," : ", "
        var text = json ? "{" + pairs.joined(separator: separator) + "}" : "- { " + pairs.joined(separator: separator) + " }"
        switch generator.next() % 24 {
        case 0: text += json ? " " : " # comment"
        case 1: text = String(text.dropLast())
        case 2: text += ","
        default: break
        }
        return text
    }

    static func document(_ generator: inout SplitMix, json: Bool) -> String {
        let routes = (0..<Int(1 + generator.next() % 4)).map { _ in item(&generator, json: json, address: false) }
        let addresses = (0..<Int(generator.next() % 3)).map { _ in item(&generator, json: json, address: true) }
        if json {
            return "{\"rtnl\": {\"routes\": [\n" + routes.joined(separator: ",\n") + "\n],\n\"addresses\": ["
                + addresses.joined(separator: ",\n") + "]}}\n"
        }
        return "rtnl:\n  routes:\n" + routes.map { "    " + $0 + "\n" }.joined()
            + (addresses.isEmpty ? "" : "  addresses:\n" + addresses.map { "    " + $0 + "\n" }.joined())
    }

    @Test("random route and address lists read the same with and without flat items", arguments: HostDocument.Format.allCases)
    func sameAsEvents(format: HostDocument.Format) {
        var generator = SplitMix(seed: format == .json ? 21 : 22)
        var documents = 0, errors = 0
        for _ in 0..<4_000 {
            let text = Self.document(&generator, json: format == .json)
            let flat = Self.read(text, format, flat: true)
            let events = Self.read(text, format, flat: false)
            #expect(flat == events, "differs on:\n\(text)")
            if flat != events { return }
            if flat.hasPrefix("error") { errors += 1 } else { documents += 1 }
        }
        // Both outcomes must be common, or this proves little.
        #expect(documents > 400 && errors > 400, "documents \(documents), errors \(errors)")
    }

    @Test("both scanners see a one-line mapping item as flat, and leave it unread when it is declined")
    func scannersSeeFlatItems() throws {
        let yaml = YAMLFastEvents(bytes: Array("rtnl:\n  routes:\n    - { a: b }\n    - { c: 'd', e: f }\n".utf8))
        for _ in 0..<9 { _ = try yaml.next() }
        #expect(yaml.flatItem { _ in nil as Int? } == nil)
        let item = try #require(yaml.flatItem { flat in flat.pairs.map { "\(flat.key($0, is: "c")) \(flat.text($0)) \($0.plain)" } })
        #expect(item.entry == ["true d false", "false f true"] && item.line == 4)
        #expect(try yaml.next().event == .sequenceEnd)

        let json = JSONEvents(bytes: Array("[{\"a\": null},\n {\"b\": 12}]".utf8))
        _ = try json.next()
        let first = try #require(json.flatItem { flat in flat.pairs.map { "\(flat.isNull($0)) \(flat.text($0))" } })
        #expect(first.entry == ["true "] && first.line == 1)
        #expect(json.flatItem { _ in nil as Int? } == nil)
        let second = try #require(json.flatItem { flat in flat.pairs.map { flat.integer($0, as: UInt8.self) } })
        #expect(second.entry == [12] && second.line == 2)
        #expect(try json.next().event == .sequenceEnd)
    }

    @Test("a list of well-formed routes is read through flat items, with each line")
    func linesOfFlatItems() throws {
        let yaml = "rtnl:\n  routes:\n" + (0..<50).map { "    - { destination: 10.0.\($0).0/24, gateway: 10.0.0.1, metric: \($0) }\n" }.joined()
        let json = "{\"rtnl\": {\"routes\": [\n" + (0..<50).map { "{\"destination\": \"10.0.\($0).0/24\", \"gateway\": \"10.0.0.1\", \"metric\": \($0)}" }.joined(separator: ",\n") + "\n]}}"
        for (text, format) in [(yaml, HostDocument.Format.yaml), (json, .json)] {
            let document = try HostDocument.decode(Array(text.utf8), format: format, file: "f")
            let routes = try #require(document.rtnl?.desired.routes)
            #expect(routes.count == 50)
            #expect(routes[7] == RtnlRouteEntry(destination: "10.0.7.0/24", gateway: "10.0.0.1", metric: 7))
            #expect(document.origin?.line(of: ["rtnl", "routes", .index(7)]) == (format == .yaml ? 10 : 9))
            #expect(Self.read(text, format, flat: true) == Self.read(text, format, flat: false))
        }
    }
}
