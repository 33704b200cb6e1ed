// Reports encode as they are, for `--json`, logs and agents that ship them:
// `{"applied": [op], "failed": [{"op", "error"}], "pending": [op],
//   "lastApplied": ..., "strategy": "staged", "converged": true}`.

extension ReconcileReport: Encodable where Item: Encodable, LastApplied: Encodable {
    private enum CodingKeys: String, CodingKey { case applied, failed, pending, lastApplied, strategy, converged }

    /// The report's buckets, its ownership record, strategy and convergence.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(applied, forKey: .applied)
        try container.encode(failed, forKey: .failed)
        try container.encode(pending, forKey: .pending)
        try container.encode(lastApplied, forKey: .lastApplied)
        try container.encode(strategy, forKey: .strategy)
        try container.encode(converged, forKey: .converged)
    }
}

extension ReconcileOp: Encodable where Item: Encodable {
    private enum CodingKeys: String, CodingKey { case op, item, previous }

    /// `{"op": "create" | "update" | "delete", "item": ..., "previous": ...}`
    /// (`previous` for an update only).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .create(let item):
            try container.encode("create", forKey: .op)
            try container.encode(item, forKey: .item)
        case .update(let item, let previous):
            try container.encode("update", forKey: .op)
            try container.encode(item, forKey: .item)
            try container.encode(previous, forKey: .previous)
        case .delete(let item):
            try container.encode("delete", forKey: .op)
            try container.encode(item, forKey: .item)
        }
    }
}

extension FailedOp: Encodable where Item: Encodable {
    private enum CodingKeys: String, CodingKey { case op, error }

    /// `{"op": op, "error": kernel error}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(op, forKey: .op)
        try container.encode(error, forKey: .error)
    }
}

extension KernelError: Encodable {
    private enum CodingKeys: String, CodingKey { case errno, code, message }

    /// `{"errno": "EEXIST", "code": 17, "message": "..."}` (the kernel's
    /// extended ack text, when it sent one).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(errno.symbolicName, forKey: .errno)
        try container.encode(errno.rawValue, forKey: .code)
        try container.encodeIfPresent(message, forKey: .message)
    }
}

extension RtnlObject: Encodable {
    private enum CodingKeys: String, CodingKey { case address, route }

    /// `{"address": {...}}` or `{"route": {...}}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .address(let address): try container.encode(address, forKey: .address)
        case .route(let route): try container.encode(route, forKey: .route)
        }
    }
}

extension SysctlSetting: Encodable {
    private enum CodingKeys: String, CodingKey { case key, value }

    /// `{"key": "net.ipv4.ip_forward", "value": "1"}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key.description, forKey: .key)
        try container.encode(value, forKey: .value)
    }
}

extension CgroupSetting: Encodable {
    private enum CodingKeys: String, CodingKey { case file, value }

    /// `{"file": "memory.max", "value": "268435456"}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(file, forKey: .file)
        try container.encode(value, forKey: .value)
    }
}

extension NftObject: Encodable {
    private enum CodingKeys: String, CodingKey { case kind, table, flags, chain, base, rule, handle, set, element }

    /// `{"kind": "rule", "chain": "input", "rule": "tcp dport 22 accept", "handle": 7}`;
    /// likewise `table` (with its flags), `chain` (with `base`), `set`, `element`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .table(let ref, let flags):
            try container.encode("table", forKey: .kind)
            try container.encode(ref.description, forKey: .table)
            try container.encode(flags.names, forKey: .flags)
        case .chain(let name, let base):
            try container.encode("chain", forKey: .kind)
            try container.encode(name, forKey: .chain)
            try container.encodeIfPresent(base, forKey: .base)
        case .rule(let chain, let text, let handle):
            try container.encode("rule", forKey: .kind)
            try container.encode(chain, forKey: .chain)
            try container.encode(text, forKey: .rule)
            try container.encodeIfPresent(handle, forKey: .handle)
        case .set(let set):
            try container.encode(set.kind, forKey: .kind)
            try container.encode(set, forKey: .set)
        case .element(let set, let value):
            try container.encode("element", forKey: .kind)
            try container.encode(set, forKey: .set)
            try container.encode(value, forKey: .element)
        }
    }
}
