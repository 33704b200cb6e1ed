import LinxReconcile

/// cgroup v2 through the backend protocol: faults apply, calls are logged.
extension SimKernel: CgroupBackend {
    /// Always ``/LinxReconcile/CgroupHierarchy/v2`` for an existing cgroup; ENOTDIR for a file, ENOENT when missing.
    public func hierarchy(of cgroup: String) async throws(KernelError) -> CgroupHierarchy {
        try cgroupCall(.cgroupHierarchy, file: "", value: nil, cgroup: cgroup) { s throws(KernelError) in
            let h = try s.cgroupHierarchy(cgroup)
            return (h, .ok)
        }
    }

    /// Reads an interface file as the kernel prints it.
    public func read(_ file: String, in cgroup: String) async throws(KernelError) -> String {
        try cgroupCall(.cgroupRead, file: file, value: nil, cgroup: cgroup) { s throws(KernelError) in
            let v = try s.readCgroup(file, in: cgroup)
            return (v, .value(v))
        }
    }

    /// Writes an interface file with the kernel's parsing (EINVAL, ERANGE, ENODEV as it answers).
    public func write(_ file: String, value: String, in cgroup: String) async throws(KernelError) {
        try cgroupCall(.cgroupWrite, file: file, value: value, cgroup: cgroup) { s throws(KernelError) in
            try s.writeCgroup(file, value: value, in: cgroup)
            return ((), .ok)
        }
    }

    /// The cgroup's interface files, sorted.
    public func files(in cgroup: String) async throws(KernelError) -> [String] {
        try cgroupCall(.cgroupList, file: "", value: nil, cgroup: cgroup) { s throws(KernelError) in
            let files = try s.cgroupFiles(cgroup).keys.sorted()
            return (files, .count(files.count))
        }
    }

    private func cgroupCall<T: Sendable>(
        _ op: SimOperation, file: String, value: String?, cgroup: String,
        _ body: (inout SimState) throws(KernelError) -> (T, SimHistoryEntry.Outcome)
    ) throws(KernelError) -> T {
        try state.withLock { s throws(KernelError) in
            do throws(KernelError) {
                if let error = s.gate(op, scope: nil) { throw error }
                let (result, outcome) = try body(&s)
                s.history.record(.backend, nil, .cgroup(op, file: file, value: value, cgroup: cgroup), outcome)
                return result
            } catch {
                s.history.record(.backend, nil, .cgroup(op, file: file, value: value, cgroup: cgroup), .failed(error))
                throw error
            }
        }
    }
}
