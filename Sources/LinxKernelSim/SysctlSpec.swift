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

    var kind: Kind
    var writable: Bool = true
    /// The boot value, as the kernel prints it.
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
            return values.prefix(count).map { String($0) }.joined(separator: "\t")
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

/// The sysctl files the simulator knows, with their boot defaults (read from
/// a fresh `ip netns add` namespace on Linux 6.18).
enum SysctlCatalog {
    /// Per-namespace keys outside the per-interface `conf` directories.
    static let netns: [String: SysctlSpec] = [
        "net/ipv4/ip_forward": .int(0),
        "net/ipv4/ip_local_port_range": .vector([32768, 60999], min: 1, max: 65535),
        "net/ipv4/ip_unprivileged_port_start": .int(1024, min: 0, max: 65535),
        // gids, read unsigned; an inverted range stores "1 0"
        "net/ipv4/ping_group_range": .vector([1, 0], min: 0, max: 4_294_967_294),
        "net/ipv4/ip_default_ttl": .int(64, min: 1, max: 255),
        "net/ipv4/ip_nonlocal_bind": .int(0, min: 0, max: 255),  // u8 (proc_dou8vec_minmax), Linux 6.18
        "net/ipv4/tcp_syncookies": .int(1, min: 0, max: 255),  // u8
        // proc_dointvec_jiffies: seconds times HZ (250 here) must fit an int.
        "net/ipv4/tcp_fin_timeout": .int(60, min: -8_589_934, max: 8_589_934),
        "net/ipv4/tcp_keepalive_time": .int(7200, min: -8_589_934, max: 8_589_934),
        "net/ipv4/icmp_echo_ignore_all": .int(0, min: 0, max: 1),  // u8 limited to 0...1
        "net/core/somaxconn": .int(4096, min: 0),
        "net/unix/max_dgram_qlen": .int(10),
    ]

    /// `net.ipv4.conf.{all,default,IFACE}.*`.
    static let ipv4Conf: [String: SysctlSpec] = [
        "forwarding": .int(0),
        "rp_filter": .int(0),
        "accept_redirects": .int(1),
        "send_redirects": .int(1),
        "secure_redirects": .int(1),
        "proxy_arp": .int(0),
        "arp_ignore": .int(0),
        "arp_announce": .int(0),
        "log_martians": .int(0),
        "accept_source_route": .int(1),
        "promote_secondaries": .int(0),
        "mc_forwarding": .readOnly("0"),
    ]

    /// IPv4 conf files whose conf.default write is not copied to interfaces:
    /// forwarding (its own handler) and the "flushing" entries.
    static let ipv4ConfNotCopiedFromDefault: Set<String> = ["forwarding", "promote_secondaries", "mc_forwarding"]

    /// `net.ipv6.conf.{all,default,IFACE}.*`.
    static let ipv6Conf: [String: SysctlSpec] = [
        "disable_ipv6": .int(0),
        "forwarding": .int(0),
        "accept_ra": .int(1),
        "accept_redirects": .int(1),
        "autoconf": .int(1),
        "hop_limit": .int(64, min: 1, max: 255),
        "keep_addr_on_down": .int(0),
        "dad_transmits": .int(1),
    ]

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
        if components.count == 5, components[0] == "net", components[2] == "conf" {
            switch components[1] {
            case "ipv4": return ipv4Conf[components[4]]
            case "ipv6": return ipv6Conf[components[4]]
            default: return nil
            }
        }
        let path = components.joined(separator: "/")
        return netns[path] ?? global[path]
    }

    /// The boot tree of one namespace, without any interface's directory.
    static func bootNetns() -> [String: String] {
        var tree: [String: String] = [:]
        for (path, spec) in netns { tree[path] = spec.boot }
        for dir in ["all", "default"] {
            for (leaf, spec) in ipv4Conf { tree["net/ipv4/conf/\(dir)/\(leaf)"] = spec.boot }
            for (leaf, spec) in ipv6Conf { tree["net/ipv6/conf/\(dir)/\(leaf)"] = spec.boot }
        }
        // conf.all differs from default (and so from every interface) here.
        tree["net/ipv4/conf/all/accept_source_route"] = "0"
        return tree
    }

    static func bootGlobal() -> [String: String] {
        global.mapValues(\.boot)
    }
}
