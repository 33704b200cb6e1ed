import Foundation
import Glibc
import LinxReconcile

extension HostDocument {
    /// How a file is written.
    public enum Format: String, Sendable, Hashable, CaseIterable {
        case yaml, json

        /// JSON for a `.json` file, YAML otherwise (YAML reads most JSON too).
        public init(path: String) {
            self = path.lowercased().hasSuffix(".json") ? .json : .yaml
        }
    }

    /// The largest file ``load(path:)`` reads: 16 MiB, about four times a
    /// file of 65,536 routes. A larger one is refused before it is read, so
    /// a mistaken path never costs more than a bounded amount of memory.
    public static let maximumFileSize = 16 << 20

    /// Reads and checks the structure of the file at `path` (format by
    /// ``Format/init(path:)``): unknown keys, wrong types, a key given twice,
    /// each with its line. Values (addresses, keys, files) are checked by the
    /// reconcilers when planning, before anything is applied.
    ///
    /// - Throws: ``HostDocumentError``.
    public static func load(path: String) throws(HostDocumentError) -> HostDocument {
        let fail = { (reason: String) in HostDocumentError(file: path, line: nil, path: [], reason: reason) }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw fail("cannot read it (\(String(cString: strerror(errno))))")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw fail("is a directory, not a desired-state file")
        case S_IFIFO: throw fail("is a FIFO, not a regular file (a desired-state file is read whole before anything runs)")
        case S_IFCHR, S_IFBLK: throw fail("is a device, not a regular file")
        default: throw fail("is not a regular file")
        }
        guard Int(info.st_size) <= maximumFileSize else {
            throw fail("is \(info.st_size) bytes; a desired-state file is at most \(maximumFileSize) bytes")
        }
        guard access(path, R_OK) == 0 else {
            throw fail("cannot read it (\(String(cString: strerror(errno))))")
        }
        let bytes = try read(path, size: Int(info.st_size), fail: fail)
        return try decode(bytes, format: Format(path: path), file: path)
    }

    /// The whole file, read straight into one array (it is at most
    /// ``maximumFileSize`` bytes).
    private static func read(
        _ path: String, size: Int, fail: (String) -> HostDocumentError
    ) throws(HostDocumentError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw fail("cannot read it (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = max(size, 4096)
        while true {
            // The file may have grown since it was measured: read until EOF,
            // still within the bound.
            let start = bytes.count
            var failure: Int32 = 0
            bytes.append(contentsOf: repeatElement(0, count: chunk))
            let got = bytes.withUnsafeMutableBytes { buffer in
                var total = 0
                while total < chunk {
                    let n = Glibc.read(fd, buffer.baseAddress! + start + total, chunk - total)
                    if n < 0 {
                        if errno == EINTR { continue }
                        failure = errno
                        return total
                    }
                    if n == 0 { break }
                    total += n
                }
                return total
            }
            bytes.removeLast(chunk - got)
            if failure != 0 { throw fail("cannot read it (\(String(cString: strerror(failure))))") }
            if got < chunk { return bytes }
            guard bytes.count <= maximumFileSize else {
                throw fail("is over \(maximumFileSize) bytes; a desired-state file is at most \(maximumFileSize) bytes")
            }
            chunk = 64 << 10
        }
    }

    /// Reads a document from its text.
    ///
    /// - Parameters:
    ///   - text: the document, whole.
    ///   - format: YAML or JSON.
    ///   - file: the name errors give (nil: none).
    /// - Throws: ``HostDocumentError``.
    public static func parse(_ text: String, format: Format, file: String? = nil) throws(HostDocumentError) -> HostDocument {
        var document = try decode(Array(text.utf8), format: format, file: file ?? "")
        if file == nil { document.origin?.file = "" }
        return document
    }

    /// YAML goes through ``YAMLFastEvents`` first; a file outside its subset,
    /// and every refusal, is read again with libyaml, whose result stands
    /// (so errors are libyaml's and the decoders', never the fast scanner's).
    /// With `flatItems` false every list item is read through events (see
    /// ``DocumentReader/entries(_:at:flat:_:)``): the reference a test compares with.
    static func decode(
        _ bytes: [UInt8], format: Format, file: String, flatItems: Bool = true
    ) throws(HostDocumentError) -> HostDocument {
        switch format {
        case .json:
            return try decode(DocumentReader(.json(JSONEvents(bytes: bytes)), file: file, flatItems: flatItems))
        case .yaml:
            if let document = try? decode(
                DocumentReader(.fastYAML(YAMLFastEvents(bytes: bytes)), file: file, flatItems: flatItems)) {
                return document
            }
            return try decode(DocumentReader(.yaml(YAMLEvents(text: bytes)), file: file))
        }
    }

    static func decode(_ start: DocumentReader) throws(HostDocumentError) -> HostDocument {
        var reader = start
        var document = HostDocument()
        let first = try reader.next()
        if first.event != .end {
            try reader.mapping(first, at: []) { (reader, key, line) throws(HostDocumentError) in
                reader.origin.record([.key(key)], line: line)
                switch key {
                case "rtnl": document.rtnl = try Rtnl.read(&reader)
                case "sysctl": document.sysctl = try Sysctl.read(&reader)
                case "cgroups": document.cgroups = try Cgroup.read(&reader)
                case "nftables": document.nftables = try Nftables.read(&reader)
                default: throw reader.unknown(key, line: line, in: [], allowed: sectionKeys)
                }
            }
            let end = try reader.next()
            guard end.event == .end else { throw reader.fail([], end.line, "unexpected content after the document") }
        }
        document.origin = reader.origin
        return document
    }

    /// The top-level keys, in apply order.
    static let sectionKeys = ["rtnl", "sysctl", "cgroups", "nftables"]
}

extension HostDocument.Rtnl {
    static let keys = ["protocol", "addressProtocol", "adoptExistingAddresses", "addresses", "routes"]

    static func read(_ reader: inout DocumentReader) throws(HostDocumentError) -> Self {
        var section = Self()
        let root: DesiredPath = ["rtnl"]
        try reader.mapping(try reader.next(), at: root) { (reader, key, line) throws(HostDocumentError) in
            let path = root.appending(.key(key))
            reader.origin.record(path, line: line)
            switch key {
            case "protocol": section.options.routeProtocol = try reader.integer(UInt8.self, at: path)
            case "addressProtocol": section.options.addressProtocol = try reader.integer(UInt8.self, at: path)
            case "adoptExistingAddresses": section.options.adoptExistingAddresses = try reader.bool(at: path)
            case "addresses":
                let (addresses, lines) = try reader.entries(try reader.next(), at: path, flat: address) {
                    (reader, item, index) throws(HostDocumentError) in try address(&reader, item, in: path, at: index)
                }
                reader.origin.recordEntries(in: path, lines: lines)
                section.desired.addresses = addresses
            case "routes":
                let (routes, lines) = try reader.entries(try reader.next(), at: path, flat: route) {
                    (reader, item, index) throws(HostDocumentError) in try route(&reader, item, in: path, at: index)
                }
                reader.origin.recordEntries(in: path, lines: lines)
                section.desired.routes = routes
            default: throw reader.unknown(key, line: line, in: root, allowed: keys)
            }
        }
        return section
    }

    // Entries are read by the ten thousand: their paths are built only for an error.

    private static func address(
        _ reader: inout DocumentReader, _ item: PositionedEvent, in list: DesiredPath, at index: Int
    ) throws(HostDocumentError) -> RtnlAddressEntry {
        func path() -> DesiredPath { list.appending(.index(index)) }
        var interface: String?, address: String?
        try reader.mapping(item, at: path(), unique: false) { (reader, key, line) throws(HostDocumentError) in
            switch key {
            case "interface" where interface == nil: interface = try reader.scalar(at: path().appending(.key(key))).text
            case "address" where address == nil: address = try reader.scalar(at: path().appending(.key(key))).text
            case "interface", "address": throw reader.fail(path().appending(.key(key)), line, "\"\(key)\" given twice in one mapping")
            default: throw reader.unknown(key, line: line, in: path(), allowed: ["interface", "address"])
            }
        }
        guard let interface else { throw reader.fail(path(), item.line, "missing \"interface\"") }
        guard let address else { throw reader.fail(path(), item.line, "missing \"address\"") }
        return RtnlAddressEntry(interface: interface, address: address)
    }

    /// ``address(_:_:in:at:)`` of a flat item; nil where that throws.
    private static func address(_ flat: FlatMapping) -> RtnlAddressEntry? {
        var interface: String?, address: String?
        for pair in flat.pairs {
            if flat.key(pair, is: "interface"), interface == nil {
                interface = flat.text(pair)
            } else if flat.key(pair, is: "address"), address == nil {
                address = flat.text(pair)
            } else {
                return nil
            }
        }
        guard let interface, let address else { return nil }
        return RtnlAddressEntry(interface: interface, address: address)
    }

    static let routeKeys = ["destination", "gateway", "interface", "table", "metric"]

    /// ``route(_:_:in:at:)`` of a flat item; nil where that throws.
    private static func route(_ flat: FlatMapping) -> RtnlRouteEntry? {
        var destination: FlatMapping.Pair?, gateway: String?, interface: String?, table: UInt32?, metric: UInt32?
        var seen = 0
        for pair in flat.pairs {
            let bit: Int
            if flat.key(pair, is: "destination") {
                bit = 0
            } else if flat.key(pair, is: "gateway") {
                bit = 1
            } else if flat.key(pair, is: "interface") {
                bit = 2
            } else if flat.key(pair, is: "table") {
                bit = 3
            } else if flat.key(pair, is: "metric") {
                bit = 4
            } else {
                return nil
            }
            guard seen & (1 << bit) == 0 else { return nil }
            seen |= 1 << bit
            switch bit {
            case 0: destination = pair
            case 1: gateway = flat.isNull(pair) ? nil : flat.text(pair)
            case 2: interface = flat.isNull(pair) ? nil : flat.text(pair)
            case 3:
                guard let value = flat.integer(pair, as: UInt32.self) else { return nil }
                table = value
            default:
                guard let value = flat.integer(pair, as: UInt32.self) else { return nil }
                metric = value
            }
        }
        guard let destination else { return nil }
        // Straight from the bytes: a dotted-quad destination makes no string.
        return RtnlRouteEntry(
            destinationUTF8: flat.utf8(destination), gateway: gateway, interface: interface, table: table, metric: metric)
    }

    private static func route(
        _ reader: inout DocumentReader, _ item: PositionedEvent, in list: DesiredPath, at index: Int
    ) throws(HostDocumentError) -> RtnlRouteEntry {
        func path() -> DesiredPath { list.appending(.index(index)) }
        var destination: String?, gateway: String?, interface: String?, table: UInt32?, metric: UInt32?
        var seen = 0
        try reader.mapping(item, at: path(), unique: false) { (reader, key, line) throws(HostDocumentError) in
            func field() -> DesiredPath { path().appending(.key(key)) }
            guard let bit = routeKeys.firstIndex(of: key) else {
                throw reader.unknown(key, line: line, in: path(), allowed: routeKeys)
            }
            guard seen & (1 << bit) == 0 else { throw reader.fail(field(), line, "\"\(key)\" given twice in one mapping") }
            seen |= 1 << bit
            switch bit {
            case 0: destination = try reader.scalar(at: field()).text
            case 1: gateway = try reader.optionalScalar(at: field())
            case 2: interface = try reader.optionalScalar(at: field())
            case 3: table = try reader.integer(UInt32.self, at: field())
            default: metric = try reader.integer(UInt32.self, at: field())
            }
        }
        guard let destination else { throw reader.fail(path(), item.line, "missing \"destination\"") }
        return RtnlRouteEntry(destination: destination, gateway: gateway, interface: interface, table: table, metric: metric)
    }
}

extension HostDocument.Sysctl {
    static let keys = ["revertOnRelease", "allowHostWideKeys", "keys"]

    static func read(_ reader: inout DocumentReader) throws(HostDocumentError) -> Self {
        var section = Self()
        let root: DesiredPath = ["sysctl"]
        try reader.mapping(try reader.next(), at: root) { (reader, key, line) throws(HostDocumentError) in
            let path = root.appending(.key(key))
            reader.origin.record(path, line: line)
            switch key {
            case "revertOnRelease": section.options.revertOnRelease = try reader.bool(at: path)
            case "allowHostWideKeys": section.options.allowHostWideKeys = try reader.bool(at: path)
            case "keys":
                var desired = SysctlDesiredState()
                try reader.mapping(try reader.next(), at: path) { (reader, name, line) throws(HostDocumentError) in
                    let entry = path.appending(.key(name))
                    reader.origin.record(entry, line: line)
                    let text = try reader.scalar(at: entry).text
                    desired.values[name] = Int(text).map(SysctlValue.integer) ?? .string(text)
                }
                section.desired = desired
            default: throw reader.unknown(key, line: line, in: root, allowed: keys)
            }
        }
        return section
    }
}

extension HostDocument.Cgroup {
    static func read(_ reader: inout DocumentReader) throws(HostDocumentError) -> [Self] {
        var cgroups: [Self] = []
        let root: DesiredPath = ["cgroups"]
        try reader.mapping(try reader.next(), at: root) { (reader, cgroup, line) throws(HostDocumentError) in
            let path = root.appending(.key(cgroup))
            reader.origin.record(path, line: line)
            var desired = CgroupDesiredState()
            try reader.mapping(try reader.next(), at: path) { (reader, file, line) throws(HostDocumentError) in
                let entry = path.appending(.key(file))
                reader.origin.record(entry, line: line)
                desired.files[file] = try value(&reader, at: entry)
            }
            cgroups.append(Self(path: cgroup, desired: desired))
        }
        return cgroups
    }

    /// A file's value: a scalar read as the kernel reads the file, or cpu.max's `{ quota, period }`.
    private static func value(_ reader: inout DocumentReader, at path: DesiredPath) throws(HostDocumentError) -> CgroupValue {
        let start = try reader.next()
        switch start.event {
        case .scalar(let text, _): return CgroupValue(parsing: text)
        case .mappingStart:
            var quota: Int?, period: Int?, unlimited = false
            try reader.mapping(start, at: path) { (reader, key, line) throws(HostDocumentError) in
                let field = path.appending(.key(key))
                switch key {
                case "quota":
                    let value = try reader.scalar(at: field)
                    if value.text == "max" {
                        unlimited = true
                    } else if let number = Int(value.text) {
                        quota = number
                    } else {
                        throw reader.fail(field, value.line, "expected an integer or max, got \"\(value.text.prefix(40))\"")
                    }
                case "period": period = try reader.integer(Int.self, at: field)
                default: throw reader.unknown(key, line: line, in: path, allowed: ["quota", "period"])
                }
            }
            guard let period else {
                throw reader.fail(path, start.line, "a { quota, period } value (cpu.max's form) needs a period")
            }
            return .cpuMax(quota: unlimited ? nil : quota, period: period)
        default:
            throw reader.fail(path, start.line, "expected a single value or { quota, period }, got \(start.event.summary)")
        }
    }
}
