import LinxReconcile

/// Everything the simulated machine holds, behind ``SimKernel``'s mutex.
/// The operations here are the kernel's semantics; fault injection and the
/// history are layered on top by ``SimKernel``.
struct SimState: Sendable {
    static let cgroupRoot = "/sys/fs/cgroup"

    var namespaces: SimNamespaceMap = [.current: SimNetns.boot(loopbackUp: true)]
    /// Namespaces in creation order, so every walk over them is deterministic.
    var namespaceOrder: [NetnsScope] = [.current]
    /// Identities, deleted namespaces kept alive by a monitor, name watchers.
    var names = SimNamespaceNames()
    var globalSysctl = SysctlCatalog.bootGlobal()
    /// The machine-wide `net.` keys (``SysctlSpec/staticKey``) written since
    /// boot, by path: every namespace, those made later too, reads them.
    var machineWideSysctl: [String: String] = [:]
    var cgroups: [String: [String: String]] = [cgroupRoot: CgroupFiles.root]
    var history: SimHistory
    var faults = FaultEngine()
    var nftFaults = SimNftFaults()
    /// The next nf_tables socket port ``SimKernel/nftSocket()`` hands out.
    var nextNftPort: UInt32 = 2
    var rng: SimRandom
    var eventCapacity: Int

    init(seed: UInt64, recordsHistory: Bool, eventCapacity: Int) {
        history = SimHistory(enabled: recordsHistory)
        rng = SimRandom(seed: seed)
        self.eventCapacity = eventCapacity
    }

    // MARK: namespaces

    func netns(_ scope: NetnsScope) throws(KernelError) -> SimNetns {
        guard let ns = namespaces[scope] else { throw KernelError(.noSuchFileOrDirectory, "no \(scope)") }
        return ns
    }

    /// Runs `body` on the namespace in place (no copy of its storage).
    mutating func withNetns<T>(_ scope: NetnsScope, _ body: (inout SimNetns) throws(KernelError) -> T) throws(KernelError) -> T {
        // One lookup, then the value in place.
        guard let slot = namespaces.slot(of: scope) else { throw KernelError(.noSuchFileOrDirectory, "no \(scope)") }
        return try namespaces.modify(slot: slot, body)
    }

    // MARK: sysctl

    /// Resolves a key to its spec; ENOENT for unknown keys, EISDIR for a
    /// directory.
    func sysctlSpec(_ key: SysctlKey, in scope: NetnsScope) throws(KernelError) -> SysctlSpec {
        try sysctlFile(key, in: scope).spec
    }

    /// ``sysctlSpec(_:in:)`` with the key's path and stored value, each
    /// looked up once (snapshots read every watched key twice a pass).
    func sysctlFile(_ key: SysctlKey, in scope: NetnsScope) throws(KernelError) -> (path: String, spec: SysctlSpec, value: String) {
        guard namespaces[scope] != nil else { throw KernelError(.noSuchFileOrDirectory, "no \(scope)") }
        let path = key.path
        let stored = key.isNetworkNamespaced
            ? namespaces[scope]?.sysctl[components: key.components, path: path] : globalSysctl[path]
        guard let stored, let spec = SysctlCatalog.spec(for: key.components, path: path) else {
            let dir = path + "/"
            let tree = key.isNetworkNamespaced ? namespaces[scope]!.sysctl.paths : Array(globalSysctl.keys)
            if tree.contains(where: { $0.hasPrefix(dir) }) { throw KernelError(.isDirectory, "\(key) is a directory") }
            throw KernelError(.noSuchFileOrDirectory, "no sysctl \(key)")
        }
        return (path, spec, stored)
    }

    func readSysctl(_ key: SysctlKey, in scope: NetnsScope) throws(KernelError) -> String {
        let (path, spec, value) = try sysctlFile(key, in: scope)
        // Even root reads only files with an owner read bit (route/flush is 0200).
        guard spec.readable else { throw KernelError(.permissionDenied, "cannot open /proc/sys/\(path)") }
        // A value the kernel refuses to print (an unset stable_secret: EIO).
        if value == "!EIO" { throw KernelError(.ioError, "cannot read /proc/sys/\(path)") }
        return value
    }

    mutating func writeSysctl(_ key: SysctlKey, value text: String, in scope: NetnsScope) throws(KernelError) {
        let spec = try sysctlSpec(key, in: scope)
        // The real backend sends an empty value as one newline (a write(2) of
        // nothing would not reach the kernel's handler at all).
        let value = text.isEmpty ? "\n" : text
        if key.isNetworkNamespaced {
            try withNetns(scope) { ns throws(KernelError) in try ns.writeSysctl(key.components, spec: spec, value: value) }
            if spec.staticKey, let now = namespaces[scope]?.sysctl[key.path] {
                machineWideSysctl[key.path] = now
                for other in namespaceOrder { namespaces[other]?.sysctl[key.path] = now }
            }
        } else if let parsed = try spec.parse(value, current: globalSysctl[key.path]!) {
            globalSysctl[key.path] = parsed
        }
    }

    func sysctlKeys(under prefix: SysctlKey, in scope: NetnsScope) throws(KernelError) -> [SysctlKey] {
        let ns = try netns(scope)
        let tree = prefix.isNetworkNamespaced ? ns.sysctl.paths : Array(globalSysctl.keys)
        let path = prefix.path
        let found = tree.filter { $0 == path || $0.hasPrefix(path + "/") }
        guard !found.isEmpty else { throw KernelError(.noSuchFileOrDirectory, "no sysctl \(prefix)") }
        return found.map { SysctlKey(components: $0.split(separator: "/").map(String.init)) }.sorted()
    }

    // MARK: cgroups

    static func normalizedCgroup(_ path: String) -> String {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }

    func cgroupHierarchy(_ path: String) throws(KernelError) -> CgroupHierarchy {
        let p = Self.normalizedCgroup(path)
        if cgroups[p] != nil { return .v2 }
        if let slash = p.lastIndex(of: "/"), let dir = cgroups[String(p[..<slash])], dir[String(p[p.index(after: slash)...])] != nil {
            throw KernelError(.notDirectory, "\(p) is a file")
        }
        throw KernelError(.noSuchFileOrDirectory, "no cgroup \(p)")
    }

    func cgroupFiles(_ path: String) throws(KernelError) -> [String: String] {
        guard let files = cgroups[Self.normalizedCgroup(path)] else {
            throw KernelError(.noSuchFileOrDirectory, "no cgroup \(path)")
        }
        return files
    }

    func readCgroup(_ file: String, in path: String) throws(KernelError) -> String {
        guard let value = try cgroupFiles(path)[file] else { throw KernelError(.noSuchFileOrDirectory, "no file \(file) in \(path)") }
        return value
    }

    mutating func writeCgroup(_ file: String, value: String, in path: String) throws(KernelError) {
        let p = Self.normalizedCgroup(path)
        let current = try readCgroup(file, in: p)
        cgroups[p]![file] = try CgroupFiles.parse(file, value, current: current)
    }

    mutating func createCgroup(_ path: String) throws(KernelError) {
        let p = Self.normalizedCgroup(path)
        guard p.hasPrefix(Self.cgroupRoot + "/"), let slash = p.lastIndex(of: "/") else {
            throw KernelError(.noSuchFileOrDirectory, "\(p) is not under \(Self.cgroupRoot)")
        }
        guard cgroups[p] == nil else { throw KernelError(.fileExists, "cgroup \(p) exists") }
        guard cgroups[String(p[..<slash])] != nil else { throw KernelError(.noSuchFileOrDirectory, "no parent cgroup for \(p)") }
        cgroups[p] = CgroupFiles.child
    }

    mutating func removeCgroup(_ path: String) throws(KernelError) {
        let p = Self.normalizedCgroup(path)
        guard cgroups[p] != nil else { throw KernelError(.noSuchFileOrDirectory, "no cgroup \(p)") }
        guard p != Self.cgroupRoot, !cgroups.keys.contains(where: { $0.hasPrefix(p + "/") }) else {
            throw KernelError(.resourceBusy, "cgroup \(p) has children")
        }
        cgroups[p] = nil
    }
}
