import Glibc
import LinxLinux
import LinxReconcile
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
