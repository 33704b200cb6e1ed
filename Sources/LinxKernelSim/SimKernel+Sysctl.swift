import LinxReconcile

/// sysctl through the backend protocol: faults apply, calls are logged.
extension SimKernel: SysctlBackend {
    /// Reads a key as the kernel prints it, without the trailing newline.
    public func read(_ key: SysctlKey, in scope: NetnsScope) async throws(KernelError) -> String {
        try state.withLock { s throws(KernelError) in
            do throws(KernelError) {
                if let error = s.gate(.sysctlRead, scope: scope) { throw error }
                let value = try s.readSysctl(key, in: scope)
                s.history.record(.backend, scope, .sysctlRead(key), .value(value))
                return value
            } catch {
                s.history.record(.backend, scope, .sysctlRead(key), .failed(error))
                throw error
            }
        }
    }

    /// Writes a key with procfs' parsing and the kernel's cross-key effects.
    public func write(_ key: SysctlKey, value: String, in scope: NetnsScope) async throws(KernelError) {
        try state.withLock { s throws(KernelError) in
            do throws(KernelError) {
                if let error = s.gate(.sysctlWrite, scope: scope) { throw error }
                try s.writeSysctl(key, value: value, in: scope)
                s.history.record(.backend, scope, .sysctlWrite(key, value), .ok)
            } catch {
                s.history.record(.backend, scope, .sysctlWrite(key, value), .failed(error))
                throw error
            }
        }
    }

    /// The `net.` keys whose value is the whole machine's rather than a
    /// namespace's (`net.netfilter.nf_hooks_lwtunnel`, a static key that
    /// cannot be turned off again): a write in any namespace changes what
    /// every namespace of the machine reads, the host's included, until the
    /// machine reboots (so in a `SimKernel` too). On a real kernel what a
    /// namespace reads depends on the host's history, so differential
    /// checks never write them and leave them out of what they compare.
    public static let machineWideSysctls: Set<SysctlKey> = Set(
        SysctlCatalog.netns.filter(\.value.staticKey).keys.map { SysctlKey(components: $0.split(separator: "/").map(String.init)) })

    /// The keys under `prefix`, sorted; ENOENT when there are none.
    public func keys(under prefix: SysctlKey, in scope: NetnsScope) async throws(KernelError) -> [SysctlKey] {
        try state.withLock { s throws(KernelError) in
            do throws(KernelError) {
                if let error = s.gate(.sysctlList, scope: scope) { throw error }
                let keys = try s.sysctlKeys(under: prefix, in: scope)
                s.history.record(.backend, scope, .sysctlList(prefix), .count(keys.count))
                return keys
            } catch {
                s.history.record(.backend, scope, .sysctlList(prefix), .failed(error))
                throw error
            }
        }
    }
}
