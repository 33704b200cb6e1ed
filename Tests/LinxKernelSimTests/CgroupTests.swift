import LinxKernelSim
import LinxReconcile
import SystemPackage
import Testing

@Suite("cgroup v2")
struct CgroupTests {
    let cg = "/sys/fs/cgroup/test"

    func kernel() throws -> SimKernel {
        let kernel = SimKernel()
        try kernel.createCgroup(cg)
        return kernel
    }

    func writeErrno(_ kernel: SimKernel, _ file: String, _ value: String) async -> Errno? {
        await errno { () async throws(KernelError) in try await kernel.write(file, value: value, in: cg) }
    }

    @Test("defaults, hierarchy, file list")
    func defaults() async throws {
        let kernel = try kernel()
        #expect(try await kernel.hierarchy(of: cg) == .v2)
        #expect(try await kernel.read("cpu.max", in: cg) == "max 100000")
        #expect(try await kernel.read("cpu.weight", in: cg) == "100")
        #expect(try await kernel.read("memory.max", in: cg) == "max")
        #expect(try await kernel.read("pids.max", in: cg) == "max")
        let files = try await kernel.files(in: cg)
        #expect(files == files.sorted() && files.contains("io.max"))
        #expect(await errno { () async throws(KernelError) in try await kernel.hierarchy(of: cg + "/nope") } == .noSuchFileOrDirectory)
        #expect(await errno { () async throws(KernelError) in try await kernel.hierarchy(of: cg + "/memory.max") } == .notDirectory)
        #expect(await errno { () async throws(KernelError) in try await kernel.read("nope", in: cg) } == .noSuchFileOrDirectory)
    }

    @Test("memory values round down to the page; suffixes; max; EINVAL for junk")
    func memory() async throws {
        let kernel = try kernel()
        try await kernel.write("memory.max", value: "1000000", in: cg)
        #expect(kernel.cgroupValue("memory.max", in: cg) == "999424")
        try await kernel.write("memory.high", value: "1G", in: cg)
        #expect(kernel.cgroupValue("memory.high", in: cg) == "1073741824")
        try await kernel.write("memory.max", value: "max\n", in: cg)
        #expect(kernel.cgroupValue("memory.max", in: cg) == "max")
        for bad in ["", "-1", "lots", "12Q"] {
            #expect(await writeErrno(kernel, "memory.max", bad) == .invalidArgument, "\(bad)")
        }
    }

    @Test("cpu.max, cpu.weight, pids.max parse and refuse as the kernel does")
    func cpuAndPids() async throws {
        let kernel = try kernel()
        try await kernel.write("cpu.max", value: "50000", in: cg)
        #expect(kernel.cgroupValue("cpu.max", in: cg) == "50000 100000")
        try await kernel.write("cpu.max", value: "max 200000", in: cg)
        #expect(kernel.cgroupValue("cpu.max", in: cg) == "max 200000")
        #expect(await writeErrno(kernel, "cpu.max", "500") == .invalidArgument)
        #expect(await writeErrno(kernel, "cpu.max", "max 10") == .invalidArgument)
        #expect(await writeErrno(kernel, "cpu.weight", "0") == .outOfRange)
        #expect(await writeErrno(kernel, "cpu.weight", "heavy") == .invalidArgument)
        try await kernel.write("pids.max", value: "64", in: cg)
        #expect(kernel.cgroupValue("pids.max", in: cg) == "64")
        // the kernel reads these with kstrtoull/kstrtoll: base 0, an optional '+'
        try await kernel.write("cpu.weight", value: "0x10", in: cg)
        #expect(kernel.cgroupValue("cpu.weight", in: cg) == "16")
        try await kernel.write("pids.max", value: "+010", in: cg)
        #expect(kernel.cgroupValue("pids.max", in: cg) == "8")
        try await kernel.write("memory.max", value: "0x2000", in: cg)
        #expect(kernel.cgroupValue("memory.max", in: cg) == "8192")
        #expect(await writeErrno(kernel, "pids.max", "-1") == .invalidArgument)
    }

    @Test("io.max keeps per-device lines and drops a device whose limits are all max")
    func ioMax() async throws {
        let kernel = try kernel()
        try await kernel.write("io.max", value: "8:0 rbps=1048576", in: cg)
        #expect(kernel.cgroupValue("io.max", in: cg) == "8:0 rbps=1048576 wbps=max riops=max wiops=max")
        try await kernel.write("io.max", value: "8:0 rbps=max", in: cg)
        #expect(kernel.cgroupValue("io.max", in: cg) == "")
        #expect(await writeErrno(kernel, "io.max", "9:9 rbps=1") == .noSuchDevice)
        #expect(await writeErrno(kernel, "io.max", "8:0 speed=1") == .invalidArgument)
    }

    @Test("ENOENT for a missing cgroup; EEXIST, EBUSY on the tree; read-only files EINVAL")
    func tree() async throws {
        let kernel = try kernel()
        #expect(await errno { () async throws(KernelError) in try await kernel.read("memory.max", in: "/sys/fs/cgroup/nope") } == .noSuchFileOrDirectory)
        #expect(await errno { () throws(KernelError) in try kernel.createCgroup(cg) } == .fileExists)
        try kernel.createCgroup(cg + "/child")
        #expect(await errno { () throws(KernelError) in try kernel.removeCgroup(cg) } == .resourceBusy)
        // checked on Linux 6.18: writing cgroup.controllers (no write handler) is EINVAL
        #expect(await writeErrno(kernel, "cgroup.controllers", "x") == .invalidArgument)
        try kernel.removeCgroup(cg + "/child")
        try kernel.removeCgroup(cg)
        #expect(kernel.cgroupValue("memory.max", in: cg) == nil)
    }
}
