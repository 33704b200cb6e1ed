import LinxLinux
import LinxReconcile
import LinxTestSupport
import SystemPackage
import Testing

// Real kernel: needs root to create cgroups; skipped (with the reason
// printed) otherwise. Only the throwaway cgroups are written.
@Suite("cgroupfs", .enabled(if: RealKernel.available, "needs root"))
struct CgroupTests {
    let kernel = LinuxKernel()

    @Test func hierarchiesAreToldByFilesystemMagic() async throws {
        try await ThrowawayCgroup.with { cgroup in
            let unified = try #require(cgroup.unified, "this machine has no cgroup2 mount")
            let pids = try #require(cgroup.pids, "this machine has no v1 pids hierarchy")
            let memory = try #require(cgroup.memory, "this machine has no v1 memory hierarchy")
            #expect(try await kernel.hierarchy(of: unified) == .v2)
            #expect(try await kernel.hierarchy(of: pids) == .v1(controllers: ["pids"]))
            #expect(try await kernel.hierarchy(of: memory) == .v1(controllers: ["memory"]))
            let notCgroup = await #expect(throws: KernelError.self) { try await kernel.hierarchy(of: "/tmp") }
            #expect(notCgroup?.errno == .notDirectory)
            let missing = await #expect(throws: KernelError.self) { try await kernel.hierarchy(of: "/sys/fs/cgroup/unified/linx-none") }
            #expect(missing?.errno == .noSuchFileOrDirectory)
        }
    }

    @Test func unifiedCoreFiles() async throws {
        try await ThrowawayCgroup.with { cgroup in
            let unified = try #require(cgroup.unified, "this machine has no cgroup2 mount")
            #expect(try await kernel.read("cgroup.max.depth", in: unified) == "max")
            try await kernel.write("cgroup.max.depth", value: "3", in: unified)
            try await kernel.write("cgroup.max.descendants", value: "10", in: unified)
            #expect(try await kernel.read("cgroup.max.depth", in: unified) == "3")
            #expect(try await kernel.read("cgroup.max.descendants", in: unified) == "10")
            let bad = await #expect(throws: KernelError.self) {
                try await kernel.write("cgroup.max.depth", value: "deep", in: unified)
            }
            #expect(bad?.errno == .invalidArgument)
            let files = try await kernel.files(in: unified)
            #expect(files.contains("cgroup.max.depth") && files == files.sorted())
        }
    }

    @Test func v1PidsAndMemory() async throws {
        try await ThrowawayCgroup.with { cgroup in
            let pids = try #require(cgroup.pids, "this machine has no v1 pids hierarchy")
            try await kernel.write("pids.max", value: "100", in: pids)
            #expect(try await kernel.read("pids.max", in: pids) == "100")
            try await kernel.write("pids.max", value: "max", in: pids)
            #expect(try await kernel.read("pids.max", in: pids) == "max")

            let memory = try #require(cgroup.memory, "this machine has no v1 memory hierarchy")
            try await kernel.write("memory.limit_in_bytes", value: "1000000", in: memory)
            #expect(try await kernel.read("memory.limit_in_bytes", in: memory) == "999424")
        }
    }

    @Test func badFileNamesAndMissingFiles() async throws {
        try await ThrowawayCgroup.with { cgroup in
            let directory = try #require(cgroup.directories.first)
            let escape = await #expect(throws: KernelError.self) { try await kernel.read("../cgroup.procs", in: directory) }
            #expect(escape?.errno == .invalidArgument)
            let missing = await #expect(throws: KernelError.self) { try await kernel.read("no.such.file", in: directory) }
            #expect(missing?.errno == .noSuchFileOrDirectory)
        }
    }
}
