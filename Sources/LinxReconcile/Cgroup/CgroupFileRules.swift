/// What the library knows about cgroup interface files: how the kernel
/// stores a written value (so desired and observed compare without
/// flapping) and which value releasing a file writes back.
package enum CgroupFileRules {
    /// Files holding a byte count that the kernel rounds down to the page
    /// size (cgroup v2, then v1).
    public static let pageRoundedFiles: Set<String> = [
        "memory.max", "memory.high", "memory.low", "memory.min",
        "memory.swap.max", "memory.swap.high", "memory.zswap.max",
        "memory.limit_in_bytes", "memory.soft_limit_in_bytes",
        "memory.memsw.limit_in_bytes", "memory.kmem.limit_in_bytes",
    ]

    /// `*.max` files whose value is not a single limit (per-device or
    /// per-resource lines), so "max" is not a default that can be written.
    static let multiLineMaxFiles: Set<String> = ["io.max", "rdma.max", "misc.max"]

    /// The value the kernel has in a fresh cgroup, written back when the file
    /// is released: `max` for the single-limit `*.max` files, `max 100000` for
    /// cpu.max, 100 for cpu.weight, `max` for memory.high, 0 for the memory
    /// protections. Nil for a file without a known default: releasing it
    /// only drops ownership.
    public static func defaultValue(of file: String) -> String? {
        switch file {
        case "cpu.max": "max 100000"
        case "cpu.weight", "cpu.shares.v2": "100"
        case "cpu.weight.nice": "0"
        case "memory.high", "memory.swap.high", "cgroup.max.depth", "cgroup.max.descendants": "max"
        case "memory.low", "memory.min": "0"
        case _ where multiLineMaxFiles.contains(file): nil
        case _ where file.hasSuffix(".max"): "max"
        default: nil
        }
    }

    /// `text` as the kernel would print it back after it was written to
    /// `file`: whitespace normalised, byte counts with a K/M/G/T/P/E suffix
    /// expanded and memory limits rounded down to `pageSize`.
    public static func stored(_ text: String, in file: String, pageSize: Int = 4096) -> String {
        let normalized = SysctlValue.normalized(text)
        guard pageRoundedFiles.contains(file), let bytes = byteCount(normalized), bytes >= 0 else {
            return normalized
        }
        return String(bytes / pageSize * pageSize)
    }

    /// Whether the kernel holding `observed` in `file` means `desired` (the
    /// text written) is in effect.
    public static func isSame(file: String, desired: String, observed: String, pageSize: Int = 4096) -> Bool {
        let want = stored(desired, in: file, pageSize: pageSize)
        let have = SysctlValue.normalized(observed)
        if want == have { return true }
        // cpu.max takes a lone quota and keeps the period it had.
        if file == "cpu.max" && !want.contains(" ") {
            return have.split(separator: " ").first.map(String.init) == want
        }
        return false
    }

    /// Parses a byte count as the kernel's memparse does: digits with an
    /// optional K, M, G, T, P or E suffix (either case).
    static func byteCount(_ text: String) -> Int? {
        guard let last = text.last else { return nil }
        let shift: Int
        switch last {
        case "k", "K": shift = 10
        case "m", "M": shift = 20
        case "g", "G": shift = 30
        case "t", "T": shift = 40
        case "p", "P": shift = 50
        case "e", "E": shift = 60
        default: return Int(text)
        }
        guard let value = Int(text.dropLast()) else { return nil }
        let (result, overflow) = value.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? nil : result
    }
}
