import LinxReconcile

/// The namespace's `net.` sysctl tree, with the kernel's cross-key effects
/// (checked on Linux 6.18 in a throwaway namespace): ip_forward and
/// conf.all.forwarding are one value, and writing it sets default and every
/// interface (and conf.all.accept_redirects to its negation); writing an
/// IPv4 conf.default file sets it on every interface that never had it
/// written (devinet_copy_dflt_conf);
/// conf.all.{forwarding,disable_ipv6} for IPv6 set default and every interface; a new
/// interface copies conf.default; an interface's directory vanishes with it.
extension SimNetns {
    /// ipv4_devconf_setall and neigh_parms_data_state_setall: every IPv4
    /// conf and ARP neigh file of the link counts as written, so default
    /// stops being copied to it (the kernel does this when the link gets an
    /// IPv4 address, lo's included). Only removing the link unmarks them.
    mutating func markConfSet(on index: Int32) {
        guard let name = links[index]?.link.name else { return }
        sysctl.markIPv4Written(name)
    }

    /// Writes a `net.` key (components already resolved to a known file).
    mutating func writeSysctl(_ components: [String], spec: SysctlSpec, value text: String) throws(KernelError) {
        let path = components.joined(separator: "/")
        guard let current = sysctl[path] else { throw KernelError(.noSuchFileOrDirectory, "no sysctl \(path)") }
        // devinet_conf_proc and neigh_proc_update mark the file written (and copy default) even
        // when parsing fails.
        let copiesDefault = components.count == 5 && (components[2] == "neigh" || (components[1] == "ipv4" && components[2] == "conf"))
        if spec.writable, !text.isEmpty, copiesDefault, components[3] != "all", components[3] != "default" {
            sysctl.markWritten(path)
        }
        guard var value = try spec.parse(text, current: current) else { return }
        switch path {
        case "net/ipv4/ip_local_port_range":
            let bounds = value.split(separator: "\t").compactMap { Int($0) }
            let unprivileged = Int(sysctl["net/ipv4/ip_unprivileged_port_start"] ?? "1024") ?? 1024
            guard bounds.count == 2, bounds[0] <= bounds[1], bounds[0] >= unprivileged else {
                throw KernelError(.invalidArgument, "ip_local_port_range: need \(unprivileged) <= low <= high")
            }
        case "net/ipv4/ip_unprivileged_port_start":
            // ipv4_privileged_ports: the start may not pass the local port range's low end
            // (checked on Linux 6.18: 1417 with a range from 1046 is EINVAL, 1046 is accepted).
            let low = (sysctl["net/ipv4/ip_local_port_range"] ?? "32768").split(separator: "\t").first.flatMap { Int($0) } ?? 32768
            guard let start = Int(value), start <= low else {
                throw KernelError(.invalidArgument, "ip_unprivileged_port_start: need start <= \(low), the local port range's low end")
            }
        case "net/ipv4/ping_group_range":
            // An inverted range silently stores the "nobody may ping" default.
            let bounds = value.split(separator: "\t").compactMap { Int($0) }
            if bounds.count == 2, bounds[0] > bounds[1] { value = "1\t0" }
        default:
            break
        }
        // The cross-key effects below run only when the value changes, as their handlers check.
        if path == "net/ipv4/ip_forward" || path == "net/ipv4/conf/all/forwarding", value == current {
            return
        }
        if path == "net/ipv4/ip_forward" || path == "net/ipv4/conf/all/forwarding" {
            // inet_forward_change: every interface and default follow, and conf.all.accept_redirects
            // becomes !forwarding (checked on Linux 6.18).
            sysctl["net/ipv4/ip_forward"] = value
            setEveryConf("ipv4", "forwarding", value)
            for state in links.values { sysctl.markWritten("net/ipv4/conf/\(state.link.name)/forwarding") }
            sysctl["net/ipv4/conf/all/accept_redirects"] = value == "0" ? "1" : "0"
            return
        }
        if components.count == 5, components[1] == "ipv6", components[3] == "all",
            components[4] == "forwarding" || components[4] == "disable_ipv6"
        {
            // unlike IPv4, these propagate on every write (checked on Linux 6.18)
            let before = links.keys.sorted().map { ipv6Disabled(on: $0) }
            setEveryConf("ipv6", components[4], value)
            if components[4] == "disable_ipv6" {
                // addrconf_disable_change: only links whose setting changed.
                for (index, was) in zip(links.keys.sorted(), before) where ipv6Disabled(on: index) != was {
                    applyDisableIPv6(index)
                }
            }
            for index in links.keys.sorted() { syncAnycast(on: index) }
            return
        }
        let disabledBefore = components.count == 5 && components[4] == "disable_ipv6"
            ? indexByName[components[3]].map { ipv6Disabled(on: $0) } : nil
        sysctl[path] = value
        if copiesDefault {
            let directory = components[0...2].joined(separator: "/")
            switch components[3] {
            case "default" where !(components[2] == "conf" && SysctlCatalog.ipv4ConfNotCopiedFromDefault.contains(components[4])):
                // devinet_copy_dflt_conf, neigh_copy_dflt_parms: links that never had this file
                // written follow default.
                for state in links.values {
                    let file = "\(directory)/\(state.link.name)/\(components[4])"
                    if sysctl[file] != nil && !sysctl.isWritten(file) { sysctl[file] = value }
                }
            case "all", "default": break
            default: sysctl.markWritten(path)
            }
        }
        if components.count == 5, components[1] == "ipv6", components[4] == "disable_ipv6",
            let index = indexByName[components[3]], disabledBefore != ipv6Disabled(on: index)
        {
            applyDisableIPv6(index)
        }
        if components.count == 5, components[1] == "ipv6", components[4] == "forwarding", let index = indexByName[components[3]] {
            syncAnycast(on: index)
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
