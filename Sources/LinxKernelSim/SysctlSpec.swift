import LinxReconcile

/// How the kernel parses and checks one sysctl file.
///
/// Mirrors procfs' handlers: `proc_dointvec` (base-0 integers, the first value
/// used, no range check), `proc_dointvec_minmax` (EINVAL outside the range),
/// integer vectors printed tab-separated, read-only files (EACCES on write,
/// even for root, checked on Linux 6.18: fs.dentry-state and
/// conf.all.mc_forwarding), and plain strings.
struct SysctlSpec: Sendable {
    enum Kind: Sendable {
        /// `count` integers with an optional inclusive range per value.
        case ints(count: Int, min: Int64?, max: Int64?)
        case string
    }

    /// How the handler stores a value it accepted, seen in what a write
    /// reads back: as written, as a boolean (`!!value`), as milliseconds in
    /// jiffies (HZ 250: rounded up to 4 ms), or as USER_HZ ticks in jiffies
    /// (rounded down through 2.5 jiffies a tick).
    enum Rounding: Sendable { case none, boolean, milliseconds, userTicks }

    var kind: Kind
    /// A string file whose handler looks its value up by name (a congestion
    /// control, an MPTCP scheduler, a netfilter logger): words outside this
    /// set are ENOENT. Nil for a free-form string.
    var choices: Set<String>? = nil
    var writable: Bool = true
    /// Root may read it (mode 0200 files such as route/flush are EACCES).
    var readable: Bool = true
    var rounding: Rounding = .none
    /// The handler reads and sets a machine-wide static key
    /// (nf_hooks_lwtunnel): every namespace of the machine reads the same
    /// value, and once on it cannot be turned off again (writing 0 is
    /// EBUSY); only a reboot turns it off.
    var staticKey: Bool = false
    /// The boot value, as the kernel prints it; `!ERRNO` when reading it
    /// fails (an unset stable_secret is EIO).
    var boot: String

    static func int(_ boot: Int, min: Int64? = nil, max: Int64? = nil) -> SysctlSpec {
        SysctlSpec(kind: .ints(count: 1, min: min, max: max), boot: String(boot))
    }

    static func vector(_ values: [Int], min: Int64? = nil, max: Int64? = nil) -> SysctlSpec {
        SysctlSpec(
            kind: .ints(count: values.count, min: min, max: max),
            boot: values.map(String.init).joined(separator: "\t"))
    }

    static func readOnly(_ boot: String) -> SysctlSpec {
        SysctlSpec(kind: .string, writable: false, boot: boot)
    }

    static func string(_ boot: String) -> SysctlSpec { SysctlSpec(kind: .string, boot: boot) }

    /// Parses a write the way procfs does and returns the value to store, or
    /// nil when the write changes nothing (a zero-length write, which the
    /// backends never send: an empty value goes out as a newline).
    /// `current` seeds the vector entries a short write leaves alone.
    func parse(_ text: String, current: String) throws(KernelError) -> String? {
        guard writable else { throw KernelError(.permissionDenied, "read-only sysctl") }
        if text.isEmpty { return nil }  // a zero-length write never reaches the handler
        switch kind {
        case .string:
            var value = Substring(text)
            if let newline = value.firstIndex(of: "\n") { value = value[..<newline] }
            if let choices {
                let words = value.split(separator: " ")
                guard !words.isEmpty, words.allSatisfy({ choices.contains(String($0)) }) else {
                    throw KernelError(.noSuchFileOrDirectory, "no \(value.debugDescription) to choose")
                }
                return words.joined(separator: " ")
            }
            return String(value)
        case .ints(let count, let min, let max):
            var values = current.split(whereSeparator: { $0 == "\t" || $0 == " " }).map { Int64($0) ?? 0 }
            if values.count < count { values += Array(repeating: 0, count: count - values.count) }
            let tokens = Self.tokens(text)
            guard !tokens.isEmpty else { throw KernelError(.invalidArgument, "no value") }
            for (i, token) in tokens.prefix(count).enumerated() {
                guard let value = Self.parseInt(token, unsigned: (max ?? 0) > 2_147_483_647) else {
                    throw KernelError(.invalidArgument, "\"\(token)\" is not an integer")
                }
                if let min, value < min { throw KernelError(.invalidArgument, "\(value) is below \(min)") }
                if let max, value > max { throw KernelError(.invalidArgument, "\(value) is above \(max)") }
                values[i] = value
            }
            if staticKey, values.first == 0, current == "1" {
                throw KernelError(.resourceBusy, "cannot be turned off once on")
            }
            return values.prefix(count).map { String(rounded($0)) }.joined(separator: "\t")
        }
    }

    func rounded(_ value: Int64) -> Int64 {
        switch rounding {
        case .none: value
        case .boolean: value != 0 ? 1 : 0
        case .milliseconds: value <= 0 ? value : (value + 3) / 4 * 4
        case .userTicks: value <= 0 ? value : (value * 250 / 100) * 100 / 250
        }
    }

    /// __do_proc_dointvec's split: before each value proc_skip_spaces skips
    /// isspace() (space, \t, \n, \v, \f, \r); a value then ends only at a
    /// space, tab or newline (proc_wspace_sep), so "\r1" reads 1 while "1\r"
    /// is not a number (checked on Linux 6.18).
    static func tokens(_ text: String) -> [Substring] {
        func skipped(_ c: Character) -> Bool { c == " " || c == "\t" || c == "\n" || c == "\u{0B}" || c == "\u{0C}" || c == "\r" }
        func separator(_ c: Character) -> Bool { c == " " || c == "\t" || c == "\n" }
        var out: [Substring] = []
        var rest = Substring(text)
        while true {
            rest = rest.drop(while: skipped)
            guard !rest.isEmpty else { return out }
            let end = rest.firstIndex(where: separator) ?? rest.endIndex
            out.append(rest[..<end])
            rest = rest[end...]
        }
    }

    /// `proc_get_long`: optional '-', then strtoul base 0 ("0x10" is 16, "010"
    /// is 8), no '+', the whole token numeric, within a C int.
    /// `unsigned` reads a u32 (proc_douintvec): no '-', up to 4294967295.
    static func parseInt(_ token: Substring, unsigned: Bool = false) -> Int64? {
        var digits = token
        var negative = false
        if digits.first == "-" {
            if unsigned { return nil }
            negative = true
            digits = digits.dropFirst()
        }
        var radix = 10
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            radix = 16
            digits = digits.dropFirst(2)
        } else if digits.count > 1 && digits.first == "0" {
            radix = 8
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isHexDigit }),
            let magnitude = UInt64(digits, radix: radix)
        else { return nil }
        if negative {
            guard magnitude <= 2_147_483_648 else { return nil }
            return -Int64(magnitude)
        }
        guard magnitude <= (unsigned ? 4_294_967_295 : 2_147_483_647) else { return nil }
        return Int64(magnitude)
    }
}

/// One file of the generated catalog (see ``SysctlCatalogData``).
struct SysctlCatalogEntry: Sendable {
    enum Kind: Sendable { case ints, string }
    let path: String
    let spec: SysctlSpec

    init(_ path: String, _ mode: Int, _ kind: Kind, _ count: Int, _ min: Int64?, _ max: Int64?, _ readback: String?, _ value: String) {
        self.path = path
        let rounding: SysctlSpec.Rounding = switch readback {
            case "1": .boolean
            case "1004": .milliseconds
            case "1000": .userTicks
            default: .none
        }
        // An unbounded int (proc_dointvec) has no range to check.
        let unbounded = min == -2_147_483_648 && max == 2_147_483_647
        spec = SysctlSpec(
            kind: kind == .ints ? .ints(count: count, min: unbounded ? nil : min, max: unbounded ? nil : max) : .string,
            writable: mode & 0o200 != 0, readable: mode & 0o400 != 0, rounding: rounding, boot: value)
    }
}

/// The sysctl files the simulator knows: every `net.` file of the
/// reference kernel (``SysctlCatalogData/release``, generated by
/// `Scripts/sysctl-catalog.py` in a throwaway namespace, with the ranges
/// and rounding its probes found), a few handlers modelled by hand, and a
/// small machine-wide tree.
enum SysctlCatalog {
    /// The kernel release the `net.` catalog models.
    static let release = SysctlCatalogData.release

    /// The directories that exist once per link, keyed by their prefix.
    static let perLinkDirectories = ["net/ipv4/conf", "net/ipv6/conf", "net/ipv4/neigh", "net/ipv6/neigh"]

    /// Handlers the probes cannot describe: ranges that depend on another
    /// key (ipv4_local_port_range, ipv4_privileged_ports) and gid ranges
    /// read unsigned (checked on Linux 6.18).
    static let handModelled: [String: SysctlSpec] = [
        "net/ipv4/ip_local_port_range": .vector([32768, 60999], min: 1, max: 65535),
        "net/ipv4/ip_unprivileged_port_start": .int(1024, min: 0, max: 65535),
        // gids, read unsigned; an inverted range stores "1 0"
        "net/ipv4/ping_group_range": .vector([1, 0], min: 0, max: 4_294_967_294),
        // A machine-wide static key, off on a freshly booted kernel (read 0
        // in the host and in a new namespace on this machine's 6.18 kernel
        // right after boot), on for good once 1 is written anywhere
        // (nf_hooks_lwtunnel.c). The catalog's boot value was read on a
        // machine where something had turned it on, so it says 1.
        "net/netfilter/nf_hooks_lwtunnel": SysctlSpec(kind: .ints(count: 1, min: 0, max: 1), staticKey: true, boot: "0"),
    ]

    /// Per-namespace keys outside the per-link directories (all and default included).
    static let netns: [String: SysctlSpec] = {
        var out: [String: SysctlSpec] = [:]
        for entry in SysctlCatalogData.entries where !entry.path.split(separator: "/").contains("IFACE") {
            out[entry.path] = handModelled[entry.path] ?? entry.spec
        }
        // Handlers that pick a name from a list the kernel also prints.
        func words(_ path: String) -> Set<String> { Set((out[path]?.boot ?? "").split(separator: " ").map(String.init)) }
        let lists = [
            "net/ipv4/tcp_congestion_control": "net/ipv4/tcp_available_congestion_control",
            "net/ipv4/tcp_allowed_congestion_control": "net/ipv4/tcp_available_congestion_control",
            "net/mptcp/scheduler": "net/mptcp/available_schedulers",
            "net/mptcp/path_manager": "net/mptcp/available_path_managers",
        ]
        for (path, list) in lists where out[path] != nil { out[path]!.choices = words(list) }
        for (path, spec) in out where path.hasPrefix("net/netfilter/nf_log/") {
            // a family's logger: none, or the one the kernel registered for it
            out[path]!.choices = ["NONE", spec.boot]
        }
        return out
    }()

    /// String files with a format of their own (port lists, ICMP rate
    /// masks, TCP Fast Open keys, stable secrets) that the simulator does
    /// not parse: it stores any text there. Differential draws leave them
    /// alone.
    static let unparsed: Set<String> = [
        "ip_local_reserved_ports", "ratemask", "tcp_fastopen_key", "stable_secret",
    ]

    /// Per-link templates: directory prefix -> leaf -> spec.
    static let perLink: [String: [String: SysctlSpec]] = {
        var out: [String: [String: SysctlSpec]] = [:]
        for entry in SysctlCatalogData.entries {
            let parts = entry.path.split(separator: "/")
            guard let at = parts.firstIndex(of: "IFACE") else { continue }
            out[parts[..<at].joined(separator: "/"), default: [:]][parts[(at + 1)...].joined(separator: "/")] = entry.spec
        }
        return out
    }()

    /// ``perLink``'s `net/X/Y` directories (all of them today) keyed by X
    /// and Y: what ``spec(for:path:)`` looks up for every per-link key,
    /// without joining a directory name first. Another shape could never
    /// match a key's first three components anyway.
    static let perLinkByParts: [String: [String: [String: SysctlSpec]]] = {
        var out: [String: [String: [String: SysctlSpec]]] = [:]
        for (directory, template) in perLink {
            let parts = directory.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, parts[0] == "net" else { continue }
            out[parts[1], default: [:]][parts[2]] = template
        }
        return out
    }()

    /// One per-link directory's files, laid out so that creating and
    /// removing a link's copies builds each path once: the directory, its
    /// leaves as `/leaf` suffixes with their specs, and each leaf's path
    /// under `default` (what a new link copies). Built once from
    /// ``perLink``; a link is made and destroyed many times a fuzzing
    /// scenario, so this is the simulator's hot path.
    struct LinkDirectory: Sendable {
        var directory: String
        /// Only links that can carry IPv6 (MTU >= 1280) get it.
        var needsIPv6: Bool
        /// IPv4 conf and neigh: the files an IPv4 address marks written.
        var markedByIPv4Address: Bool
        var leaves: [(suffix: String, spec: SysctlSpec, defaultPath: String)]

        /// `directory/name`: a link's directory, its files' common prefix.
        func path(of name: String) -> String {
            var text = directory
            text.reserveCapacity(directory.utf8.count + name.utf8.count + 40)
            text += "/"
            text += name
            return text
        }
    }

    /// ``perLinkDirectories`` with their leaves, in that order.
    static let linkDirectories: [LinkDirectory] = perLinkDirectories.map { directory in
        LinkDirectory(
            directory: directory, needsIPv6: !directory.hasPrefix("net/ipv4"),
            markedByIPv4Address: directory == "net/ipv4/conf" || directory == "net/ipv4/neigh",
            leaves: (perLink[directory] ?? [:]).sorted { $0.key < $1.key }.map { leaf, spec in
                ("/" + leaf, spec, "\(directory)/default/\(leaf)")
            })
    }

    /// `net.ipv4.conf.{all,default,IFACE}.*`.
    static var ipv4Conf: [String: SysctlSpec] { perLink["net/ipv4/conf"] ?? [:] }
    /// `net.ipv6.conf.{all,default,IFACE}.*`.
    static var ipv6Conf: [String: SysctlSpec] { perLink["net/ipv6/conf"] ?? [:] }

    /// IPv4 conf files whose conf.default write is not copied to interfaces:
    /// forwarding (its own handler) and the "flushing" entries.
    static let ipv4ConfNotCopiedFromDefault: Set<String> = ["forwarding", "promote_secondaries", "mc_forwarding"]

    /// Keys outside `net.`: one tree for the whole simulated machine, shared
    /// by every namespace, as on a real host.
    static let global: [String: SysctlSpec] = [
        "kernel/hostname": .string("linxsim"),
        "kernel/osrelease": .readOnly("6.18.0-linxsim"),
        "kernel/pid_max": .int(4_194_304, min: 301, max: 4_194_304),
        "kernel/panic": .int(0),
        "kernel/threads-max": .int(63_374, min: 20),
        "vm/swappiness": .int(60, min: 0, max: 200),
        "vm/overcommit_memory": .int(0, min: 0, max: 2),
        "vm/max_map_count": .int(65_530, min: 0),
        "fs/dentry-state": .readOnly("0\t0\t45\t0\t0\t0"),
        "fs/inotify/max_user_watches": .int(8192, min: 0),
    ]

    /// The spec for a path, or nil when no such file exists in the catalog.
    static func spec(for components: [String]) -> SysctlSpec? {
        spec(for: components, path: components.joined(separator: "/"))
    }

    /// ``spec(for:)`` when the caller has the path (`components` joined by `/`) already.
    static func spec(for components: [String], path: String) -> SysctlSpec? {
        if components.count >= 5, components[0] == "net", components[3] != "all", components[3] != "default" {
            if let template = perLinkByParts[components[1]]?[components[2]] {
                return template[components.count == 5 ? components[4] : components[4...].joined(separator: "/")]
            }
        }
        return netns[path] ?? global[path]
    }

    /// The boot tree of one namespace, without any interface's directory.
    static let bootTree: [String: String] = netns.mapValues(\.boot)

    static func bootNetns() -> [String: String] { bootTree }

    static func bootGlobal() -> [String: String] {
        global.mapValues(\.boot)
    }
}
