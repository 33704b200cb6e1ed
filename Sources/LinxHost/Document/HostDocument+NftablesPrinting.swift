import LinxReconcile

/// Writing the `nftables` section back in the form its parser reads: the
/// options that differ from the defaults, then each table (`absent`, or its
/// chains and sets, base-chain fields before rules).
extension HostDocument.Nftables {
    func writeYAML(to out: inout YAMLWriter) {
        out.line(0, "nftables:")
        let defaults = NftablesOptions.default
        if options.marker != defaults.marker { out.line(1, "marker: \(YAMLWriter.quoted(options.marker))") }
        if options.lifetime != defaults.lifetime { out.line(1, "lifetime: \(options.lifetime.rawValue)") }
        if options.maxRetries != defaults.maxRetries { out.line(1, "maxRetries: \(options.maxRetries)") }
        guard !tables.isEmpty else { return out.line(1, "tables: {}") }
        out.line(1, "tables:")
        for table in tables {
            let name = YAMLWriter.quoted(table.ref.description)
            guard let desired = table.desired else {
                out.line(2, "\(name): absent")
                continue
            }
            guard !desired.chains.isEmpty || !desired.sets.isEmpty else {
                out.line(2, "\(name): {}")
                continue
            }
            out.line(2, "\(name):")
            if !desired.chains.isEmpty { out.line(3, "chains:") }
            for chain in desired.chains {
                let fields = Self.fields(chain)
                guard !fields.isEmpty || !chain.rules.isEmpty else {
                    out.line(4, "\(YAMLWriter.quoted(chain.name)): {}")
                    continue
                }
                out.line(4, "\(YAMLWriter.quoted(chain.name)):")
                for (key, value) in fields { out.line(5, "\(key): \(YAMLWriter.quoted(value))") }
                Self.list(&out, 5, "rules", chain.rules)
            }
            if !desired.sets.isEmpty { out.line(3, "sets:") }
            for set in desired.sets {
                out.line(4, "\(YAMLWriter.quoted(set.name)):")
                out.line(5, "type: \(YAMLWriter.quoted(set.type))")
                if let dataType = set.dataType { out.line(5, "map: \(YAMLWriter.quoted(dataType))") }
                Self.list(&out, 5, "flags", set.flags)
                Self.list(&out, 5, "elements", set.elements)
            }
        }
    }

    var json: JSONValue {
        var fields: [(String, JSONValue)] = []
        let defaults = NftablesOptions.default
        if options.marker != defaults.marker { fields.append(("marker", .string(options.marker))) }
        if options.lifetime != defaults.lifetime { fields.append(("lifetime", .string(options.lifetime.rawValue))) }
        if options.maxRetries != defaults.maxRetries { fields.append(("maxRetries", .number(options.maxRetries))) }
        fields.append(("tables", .object(tables.map { table in
            guard let desired = table.desired else { return (table.ref.description, .string("absent")) }
            var content: [(String, JSONValue)] = []
            if !desired.chains.isEmpty {
                content.append(("chains", .object(desired.chains.map { chain in
                    var body = Self.fields(chain).map { ($0.0, JSONValue.string($0.1)) }
                    if !chain.rules.isEmpty { body.append(("rules", .array(chain.rules.map(JSONValue.string)))) }
                    return (chain.name, .object(body))
                })))
            }
            if !desired.sets.isEmpty {
                content.append(("sets", .object(desired.sets.map { set in
                    var body: [(String, JSONValue)] = [("type", .string(set.type))]
                    if let dataType = set.dataType { body.append(("map", .string(dataType))) }
                    if !set.flags.isEmpty { body.append(("flags", .array(set.flags.map(JSONValue.string)))) }
                    if !set.elements.isEmpty { body.append(("elements", .array(set.elements.map(JSONValue.string)))) }
                    return (set.name, .object(body))
                })))
            }
            return (table.ref.description, .object(content))
        })))
        return .object(fields)
    }

    /// A base chain's fields, the defaults left out (the hook never is).
    private static func fields(_ chain: NftChain) -> [(String, String)] {
        guard let base = chain.base else { return [] }
        var fields = [("hook", base.hook.rawValue)]
        if base.type != .filter { fields.append(("type", base.type.rawValue)) }
        if base.priority != 0 { fields.append(("priority", String(base.priority))) }
        if base.policy != .accept { fields.append(("policy", base.policy.rawValue)) }
        return fields
    }

    private static func list(_ out: inout YAMLWriter, _ level: Int, _ key: String, _ values: [String]) {
        guard !values.isEmpty else { return }
        out.line(level, "\(key):")
        for value in values { out.line(level + 1, "- " + YAMLWriter.quoted(value)) }
    }
}
