import LinxHost

extension HostState {
    /// The ownership part of the state file, as the library's host reconciler takes it.
    var owned: HostLastApplied {
        get { HostLastApplied(rtnl: rtnl, sysctl: sysctl, cgroups: cgroups, nftables: nftables ?? [:]) }
        set {
            rtnl = newValue.rtnl
            sysctl = newValue.sysctl
            cgroups = newValue.cgroups
            nftables = newValue.nftables.isEmpty ? nil : newValue.nftables
        }
    }
}
