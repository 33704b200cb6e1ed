import LinxReconcile

/// The namespace's `net.` sysctl tree, with the kernel's cross-key effects
/// (checked on Linux 6.18 in a throwaway namespace): ip_forward and
/// conf.all.forwarding are one value, and writing it sets default and every
/// interface; conf.all.{forwarding,disable_ipv6} for IPv6 do the same; a new
/// interface copies conf.default; an interface's directory vanishes with it.
extension SimNetns {
    mutating func createConfSysctls(for name: String) {
        for (leaf, spec) in SysctlCatalog.ipv4Conf {
            sysctl["net/ipv4/conf/\(name)/\(leaf)"] = spec.writable ? (sysctl["net/ipv4/conf/default/\(leaf)"] ?? spec.boot) : spec.boot
        }
        for (leaf, spec) in SysctlCatalog.ipv6Conf {
            sysctl["net/ipv6/conf/\(name)/\(leaf)"] = sysctl["net/ipv6/conf/default/\(leaf)"] ?? spec.boot
        }
    }

    mutating func removeConfSysctls(for name: String) {
        for leaf in SysctlCatalog.ipv4Conf.keys { sysctl["net/ipv4/conf/\(name)/\(leaf)"] = nil }
        for leaf in SysctlCatalog.ipv6Conf.keys { sysctl["net/ipv6/conf/\(name)/\(leaf)"] = nil }
    }

    /// Writes a `net.` key (components already resolved to a known file).
    mutating func writeSysctl(_ components: [String], spec: SysctlSpec, value text: String) throws(KernelError) {
        let path = components.joined(separator: "/")
        guard let current = sysctl[path] else { throw KernelError(.noSuchFileOrDirectory, "no sysctl \(path)") }
        guard var value = try spec.parse(text, current: current) else { return }
        switch path {
        case "net/ipv4/ip_local_port_range":
            let bounds = value.split(separator: "\t").compactMap { Int($0) }
            let unprivileged = Int(sysctl["net/ipv4/ip_unprivileged_port_start"] ?? "1024") ?? 1024
            guard bounds.count == 2, bounds[0] <= bounds[1], bounds[0] >= unprivileged else {
                throw KernelError(.invalidArgument, "ip_local_port_range: need \(unprivileged) <= low <= high")
            }
        case "net/ipv4/ping_group_range":
            // An inverted range silently stores the "nobody may ping" default.
            let bounds = value.split(separator: "\t").compactMap { Int($0) }
            if bounds.count == 2, bounds[0] > bounds[1] { value = "1\t0" }
        default:
            break
        }
        if path == "net/ipv4/ip_forward" || path == "net/ipv4/conf/all/forwarding" {
            sysctl["net/ipv4/ip_forward"] = value
            setEveryConf("ipv4", "forwarding", value)
            return
        }
        if components.count == 5, components[1] == "ipv6", components[3] == "all",
            components[4] == "forwarding" || components[4] == "disable_ipv6"
        {
            setEveryConf("ipv6", components[4], value)
            if components[4] == "disable_ipv6" {
                for index in links.keys.sorted() { applyDisableIPv6(index) }
            }
            return
        }
        sysctl[path] = value
        if components.count == 5, components[1] == "ipv6", components[4] == "disable_ipv6",
            let index = indexByName[components[3]]
        {
            applyDisableIPv6(index)
        }
    }

    /// Sets `leaf` in all, default and every interface directory.
    private mutating func setEveryConf(_ family: String, _ leaf: String, _ value: String) {
        sysctl["net/\(family)/conf/all/\(leaf)"] = value
        sysctl["net/\(family)/conf/default/\(leaf)"] = value
        for state in links.values {
            sysctl["net/\(family)/conf/\(state.link.name)/\(leaf)"] = value
        }
    }

    /// Disabling IPv6 on a link removes its IPv6 addresses and routes;
    /// enabling it on an up link brings the link-local address back.
    private mutating func applyDisableIPv6(_ index: Int32) {
        if ipv6Disabled(on: index) {
            flushIPv6(on: index)
        } else {
            enableIPv6(on: index)
        }
    }
}
