import Glibc
import LinxLinux
import LinxReconcile
import LinxTestSupport
import SystemPackage
import Testing

// Real kernel: needs root for `ip netns add`; skipped (with the reason
// printed) otherwise. The host namespace is only read here.
@Suite("namespace scopes", .enabled(if: RealKernel.available, "needs root and iproute2"))
struct NamespaceScopeTests {
    /// The netns of the calling thread, as the kernel names it (`net:[inode]`).
    func threadNamespace() -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = readlink("/proc/thread-self/ns/net", &buffer, buffer.count - 1)
        return count > 0 ? String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    }

    @Test func swiftThreadsNeverChangeNamespace() async throws {
        let host = threadNamespace()
        try await ThrowawayNamespace.with { ns in
            let kernel = LinuxKernel()
            for _ in 0..<20 {
                _ = try await kernel.links(in: ns.scope)
                #expect(threadNamespace() == host)
                _ = try await kernel.read(SysctlKey("net.ipv4.ip_forward"), in: ns.scope)
                #expect(threadNamespace() == host)
            }
        }
    }

    @Test func pidAndPathScopesReachTheSameNamespace() async throws {
        try await ThrowawayNamespace.with { ns in
            let kernel = LinuxKernel()
            // Our own pid is the host namespace: read-only dumps there.
            let byPid = try await kernel.links(in: .pid(getpid())).map(\.name).sorted()
            let current = try await kernel.links(in: .current).map(\.name).sorted()
            #expect(byPid == current)
            // /proc/self/ns/net style paths work like /run/netns ones.
            let viaPath = try await kernel.links(in: .path("/run/netns/\(ns.name)")).map(\.name).sorted()
            #expect(viaPath == ["br0", "lo", "v0", "v1"])
            #expect(current != viaPath)
        }
    }

    @Test func aRecreatedNamespaceIsNoticed() async throws {
        let kernel = LinuxKernel()
        let ns = try ThrowawayNamespace.create(links: [.bridge("first")])
        defer { ns.remove() }
        #expect(try await kernel.links(in: ns.scope).contains { $0.name == "first" })
        ns.remove()
        let gone = await #expect(throws: KernelError.self) { try await kernel.links(in: ns.scope) }
        #expect(gone?.errno == .noSuchFileOrDirectory)
        try Command.check(["ip", "netns", "add", ns.name])
        try ns.ip("link", "add", "second", "type", "bridge")
        let names = try await kernel.links(in: ns.scope).map(\.name)
        #expect(names.contains("second") && !names.contains("first"))
    }

    @Test func missingPidIsENOENT() async throws {
        let error = await #expect(throws: KernelError.self) {
            try await LinuxKernel().links(in: .pid(Int32.max))
        }
        #expect(error?.errno == .noSuchFileOrDirectory)
    }
}

/// Threads of this process currently inside the namespace at `path`.
func threadsInside(_ path: String) -> Int {
    var info = stat()
    guard stat(path, &info) == 0 else { return 0 }
    let wanted = "net:[\(info.st_ino)]"
    guard let directory = opendir("/proc/self/task") else { return 0 }
    defer { closedir(directory) }
    var count = 0
    while let entry = readdir(directory) {
        let tid = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard tid.first?.isNumber == true else { continue }
        var buffer = [CChar](repeating: 0, count: 64)
        let length = readlink("/proc/self/task/\(tid)/ns/net", &buffer, buffer.count - 1)
        if length > 0, String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) == wanted { count += 1 }
    }
    return count
}

// Real kernel, root only (see above): the lifetime of namespace threads.
@Suite("namespace threads", .enabled(if: RealKernel.available, "needs root and iproute2"))
struct NamespaceThreadTests {
    @Test func anIdleThreadEndsAndReleasesTheNamespace() async throws {
        try await ThrowawayNamespace.with { ns in
            // (That the thread is there while the kernel lives and is not idle:
            // releasingTheKernelEndsItsThreads. Checking it here would race the timeout.)
            let kernel = LinuxKernel(configuration: .init(idleTimeout: .milliseconds(200)))
            _ = try await kernel.links(in: ns.scope)
            #expect(await RealKernel.poll(for: .seconds(10)) { threadsInside("/run/netns/\(ns.name)") == 0 })
            // The next call starts a new thread transparently.
            #expect(try await kernel.links(in: ns.scope).contains { $0.name == "v0" })
        }
    }

    @Test func releasingTheKernelEndsItsThreads() async throws {
        try await ThrowawayNamespace.with { ns in
            do {
                let kernel = LinuxKernel(configuration: .init(idleTimeout: nil))
                _ = try await kernel.links(in: ns.scope)
                #expect(threadsInside("/run/netns/\(ns.name)") == 1)
            }
            #expect(await RealKernel.poll(for: .seconds(3)) { threadsInside("/run/netns/\(ns.name)") == 0 })
        }
    }

    @Test func aPidScopeEndsWithItsProcess() async throws {
        try await ThrowawayNamespace.with { ns in
            let child = try #require(Command.spawn(["ip", "netns", "exec", ns.name, "sleep", "600"]))
            // Killed and reaped once: after the reap the pid may be another process's.
            var reaped = false
            defer {
                if !reaped {
                    kill(child, SIGKILL)
                    Command.wait(child)
                }
            }
            // `ip netns exec` enters the namespace, then execs sleep under the same pid.
            #expect(await RealKernel.poll(for: .seconds(3)) {
                (try? await LinuxKernel().links(in: .pid(child)).contains { $0.name == "br0" }) == true
            })
            let kernel = LinuxKernel()
            #expect(try await kernel.links(in: .pid(child)).contains { $0.name == "v0" })
            kill(child, SIGKILL)
            Command.wait(child)
            reaped = true
            let error = await #expect(throws: KernelError.self) { try await kernel.links(in: .pid(child)) }
            #expect(error?.errno == .noSuchFileOrDirectory)
            #expect(await RealKernel.poll(for: .seconds(3)) { threadsInside("/run/netns/\(ns.name)") == 0 })
        }
    }
}
