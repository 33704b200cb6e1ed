import LinxReconcile

/// The cgroup v2 interface files the simulator models, with the kernel's
/// parsing and printing. Values are stored as the kernel prints them.
enum CgroupFiles {
    /// The kernel's page size; memory limits are rounded down to it.
    static let pageSize: UInt64 = 4096
    /// PIDS_MAX: pids.max takes 0...PID_MAX_LIMIT.
    static let pidsLimit: Int64 = 4_194_304
    /// Block devices io.max accepts (anything else is ENODEV).
    static let blockDevices: Set<String> = ["8:0", "8:16", "254:0", "259:0"]

    /// Files of the root cgroup: only the core ones, as on a real host.
    static let root: [String: String] = [
        "cgroup.controllers": "cpu io memory pids",
        "cgroup.subtree_control": "cpu io memory pids",
        "cgroup.procs": "",
        "cgroup.max.depth": "max",
        "cgroup.max.descendants": "max",
    ]

    /// Files of a child cgroup with the cpu, io, memory and pids controllers
    /// enabled by its parent, at their defaults.
    static let child: [String: String] = [
        "cgroup.controllers": "cpu io memory pids",
        "cgroup.subtree_control": "",
        "cgroup.procs": "",
        "cgroup.type": "domain",
        "cgroup.freeze": "0",
        "cgroup.max.depth": "max",
        "cgroup.max.descendants": "max",
        "memory.max": "max",
        "memory.high": "max",
        "memory.low": "0",
        "memory.min": "0",
        "memory.swap.max": "max",
        "memory.current": "0",
        "pids.max": "max",
        "pids.current": "0",
        "cpu.max": "max 100000",
        "cpu.weight": "100",
        "io.max": "",
    ]

    /// Files no write can change; the kernel answers EINVAL (no write handler).
    static let readOnly: Set<String> = ["cgroup.controllers", "memory.current", "pids.current"]

    /// Parses a write to `file`, given its current printed value, and returns
    /// the new printed value.
    static func parse(_ file: String, _ input: String, current: String) throws(KernelError) -> String {
        if readOnly.contains(file) { throw KernelError(.invalidArgument, "\(file) is read-only") }
        let text = input.trimmingWhitespace()
        switch file {
        case "memory.max", "memory.high", "memory.low", "memory.min", "memory.swap.max":
            return try memory(text, file: file)
        case "pids.max":
            if text == "max" { return "max" }
            guard let value = kstrtoll(text) else { throw KernelError(.invalidArgument, "pids.max: \"\(text)\" is not max or an integer") }
            guard (0...pidsLimit).contains(value) else { throw KernelError(.invalidArgument, "pids.max: \(value) out of range") }
            return String(value)
        case "cpu.max":
            return try cpuMax(text, current: current)
        case "cpu.weight":
            guard let value = kstrtoull(text) else { throw KernelError(.invalidArgument, "cpu.weight: \"\(text)\" is not an integer") }
            // cpu_weight_write_u64 answers ERANGE, not EINVAL, outside 1...10000.
            guard (1...10_000).contains(value) else { throw KernelError(.outOfRange, "cpu.weight: \(value) not in 1...10000") }
            return String(value)
        case "io.max":
            return try ioMax(text, current: current)
        case "cgroup.max.depth", "cgroup.max.descendants":
            if text == "max" { return "max" }
            // kstrtoint: EINVAL for junk, ERANGE past an int; a negative value is ERANGE too and
            // INT_MAX reads back as max (checked on Linux 6.18: -1 is ERANGE, 0x10 reads back 16).
            let value = try kstrtoint(text, file: file)
            guard value >= 0 else { throw KernelError(.outOfRange, "\(file): \(value) is negative") }
            return value == Int64(Int32.max) ? "max" : String(value)
        case "cgroup.freeze":
            // kstrtoint, then 0 or 1 (ERANGE otherwise), as Linux 6.18 answers
            let value = try kstrtoint(text, file: file)
            guard value == 0 || value == 1 else { throw KernelError(.outOfRange, "cgroup.freeze takes 0 or 1") }
            return String(value)
        case "cgroup.subtree_control":
            return try subtreeControl(text, current: current)
        default:
            // cgroup.procs, cgroup.type: accepted as written.
            return text
        }
    }

    /// page_counter_memparse: "max", or memparse (K/M/G/T suffixes), rounded
    /// down to the page size.
    static func memory(_ text: String, file: String) throws(KernelError) -> String {
        if text == "max" { return "max" }
        var digits = Substring(text)
        var shift: UInt64 = 0
        if let last = digits.last, !last.isNumber {
            switch last {
            case "k", "K": shift = 10
            case "m", "M": shift = 20
            case "g", "G": shift = 30
            case "t", "T": shift = 40
            case "p", "P": shift = 50
            case "e", "E": shift = 60
            default: throw KernelError(.invalidArgument, "\(file): \"\(text)\" is not max or a size")
            }
            digits = digits.dropLast()
        }
        guard let value = kstrtoull(String(digits)), digits.first != "+" else {
            throw KernelError(.invalidArgument, "\(file): \"\(text)\" is not max or a size")
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: 1 << shift)
        // Anything at or past PAGE_COUNTER_MAX pages reads back as max.
        if overflow || bytes / pageSize >= UInt64(Int64.max) / pageSize { return "max" }
        return String(bytes / pageSize * pageSize)
    }

    /// cpu.max: "QUOTA [PERIOD]", QUOTA "max" or microseconds >= 1000,
    /// PERIOD 1000...1000000; a lone quota keeps the period.
    static func cpuMax(_ text: String, current: String) throws(KernelError) -> String {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard (1...2).contains(parts.count) else { throw KernelError(.invalidArgument, "cpu.max: expected \"QUOTA [PERIOD]\"") }
        var period = UInt64(current.split(separator: " ").last ?? "100000") ?? 100_000
        if parts.count == 2 {
            guard let p = UInt64(parts[1]) else { throw KernelError(.invalidArgument, "cpu.max: period \"\(parts[1])\" is not an integer") }
            period = p
        }
        guard (1000...1_000_000).contains(period) else { throw KernelError(.invalidArgument, "cpu.max: period \(period) not in 1000...1000000") }
        if parts[0] == "max" { return "max \(period)" }
        guard let quota = UInt64(parts[0]) else { throw KernelError(.invalidArgument, "cpu.max: quota \"\(parts[0])\" is not max or an integer") }
        guard quota >= 1000 else { throw KernelError(.invalidArgument, "cpu.max: quota \(quota) below 1000") }
        return "\(quota) \(period)"
    }

    /// io.max: "MAJ:MIN key=value..." for rbps, wbps, riops, wiops; lines
    /// print sorted by device; a device whose limits are all max disappears.
    static func ioMax(_ text: String, current: String) throws(KernelError) -> String {
        var lines: [String: [String: String]] = [:]
        for line in current.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard let dev = parts.first else { continue }
            var limits: [String: String] = [:]
            for kv in parts.dropFirst() {
                let pair = kv.split(separator: "=", maxSplits: 1)
                if pair.count == 2 { limits[String(pair[0])] = String(pair[1]) }
            }
            lines[String(dev)] = limits
        }
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard let dev = parts.first, dev.contains(":") else { throw KernelError(.invalidArgument, "io.max: expected \"MAJ:MIN key=value...\"") }
        let device = String(dev)
        guard blockDevices.contains(device) else { throw KernelError(.noSuchDevice, "io.max: no block device \(device)") }
        var limits = lines[device] ?? ["rbps": "max", "wbps": "max", "riops": "max", "wiops": "max"]
        for kv in parts.dropFirst() {
            let pair = kv.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, ["rbps", "wbps", "riops", "wiops"].contains(pair[0]) else {
                throw KernelError(.invalidArgument, "io.max: bad field \"\(kv)\"")
            }
            if pair[1] == "max" {
                limits[String(pair[0])] = "max"
            } else {
                guard let value = UInt64(pair[1]), value > 0 else { throw KernelError(.invalidArgument, "io.max: bad value \"\(kv)\"") }
                limits[String(pair[0])] = String(value)
            }
        }
        if limits.values.allSatisfy({ $0 == "max" }) { lines[device] = nil } else { lines[device] = limits }
        return lines.keys.sorted().map { dev in
            let l = lines[dev]!
            return "\(dev) rbps=\(l["rbps"] ?? "max") wbps=\(l["wbps"] ?? "max") riops=\(l["riops"] ?? "max") wiops=\(l["wiops"] ?? "max")"
        }.joined(separator: "\n")
    }

    /// kstrtoull: optional '+', base 0 ("0x10" is 16, "010" is 8), the whole
    /// text numeric.
    static func kstrtoull(_ text: String) -> UInt64? {
        var digits = Substring(text)
        if digits.first == "+" { digits = digits.dropFirst() }
        var radix = 10
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            radix = 16
            digits = digits.dropFirst(2)
        } else if digits.count > 1, digits.first == "0" {
            radix = 8
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isHexDigit) else { return nil }
        return UInt64(digits, radix: radix)
    }

    /// kstrtoll: kstrtoull with an optional '-', within Int64.
    static func kstrtoll(_ text: String) -> Int64? {
        if text.hasPrefix("-") {
            guard let magnitude = kstrtoull(String(text.dropFirst())), !text.dropFirst().hasPrefix("+"),
                magnitude <= UInt64(Int64.max) + 1
            else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard let magnitude = kstrtoull(text), magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// kstrtoint: EINVAL when `text` is not a number, ERANGE when it is one
    /// that does not fit a C int.
    static func kstrtoint(_ text: String, file: String) throws(KernelError) -> Int64 {
        if let value = kstrtoll(text) {
            guard (Int64(Int32.min)...Int64(Int32.max)).contains(value) else {
                throw KernelError(.outOfRange, "\(file): \(text) does not fit an int")
            }
            return value
        }
        // All digits but too large for 64 bits is still ERANGE.
        let body = text.drop { $0 == "-" || $0 == "+" }
        if !body.isEmpty, body.allSatisfy(\.isNumber) { throw KernelError(.outOfRange, "\(file): \(text) does not fit an int") }
        throw KernelError(.invalidArgument, "\(file): \"\(text)\" is not an integer")
    }

    /// "+ctrl -ctrl" tokens over the available controllers.
    static func subtreeControl(_ text: String, current: String) throws(KernelError) -> String {
        let available = ["cpu", "io", "memory", "pids"]
        var enabled = Set(current.split(separator: " ").map(String.init))
        for token in text.split(separator: " ") {
            let name = String(token.dropFirst())
            guard let sign = token.first, sign == "+" || sign == "-", available.contains(name) else {
                throw KernelError(.invalidArgument, "cgroup.subtree_control: bad token \"\(token)\"")
            }
            if sign == "+" { enabled.insert(name) } else { enabled.remove(name) }
        }
        return available.filter(enabled.contains).joined(separator: " ")
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines
    /// (the kernel's strstrip), without Foundation.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}
