import Glibc
import LinxConformance
@testable import LinxConformanceKernel
import LinxReconcile
import Testing

/// The real-kernel subjects' mutation journal moves on every write the
/// Source sends, also one of the same bytes, and on nothing else (a foreign
/// write, a read, a no-op pass).
@Suite("real-kernel subjects' write journal (root only)", .serialized, .enabled(if: getuid() == 0, "needs root: it makes a throwaway network namespace"))
struct WriteJournalTests {
    @Test("sysctl/kernel: a pass's writes move the stamp, a no-op pass and foreign writes do not, a same-bytes rewrite does")
    func sysctlJournal() async throws {
        let subject = SysctlKernelSubject()
        let sandbox = try await subject.makeSandbox(seed: 0)
        defer { sandbox.namespace.remove() }
        let source = subject.source(for: sandbox)
        let options = subject.options(for: sandbox)
        let desired: SysctlDesiredState = ["net.ipv4.ip_default_ttl": 77, "net.ipv4.tcp_fin_timeout": 33]
        let start = try #require(try await subject.mutationStamp(of: sandbox))
        let first = try await source.reconcile(scope: sandbox.scope, desired: desired, lastApplied: .empty, options: options)
        #expect(first.converged && first.applied.count == 2)
        let written = try #require(try await subject.mutationStamp(of: sandbox))
        #expect(written == MutationStamp(writes: 2) && start == MutationStamp(writes: 0))
        let again = try await source.reconcile(scope: sandbox.scope, desired: desired, lastApplied: first.lastApplied, options: options)
        #expect(again.planned.isEmpty)
        try sandbox.namespace.setSysctl("net.ipv4.tcp_syncookies", "0")
        #expect(try await subject.mutationStamp(of: sandbox) == written)
        // What a Source that rewrites on a no-op pass does: the same bytes, through its backend.
        let backend = JournaledSysctlBackend(base: sandbox.kernel, journal: sandbox.journal)
        try await backend.write(try SysctlKey("net.ipv4.ip_default_ttl"), value: "77", in: sandbox.scope)
        #expect(try sandbox.namespace.sysctl("net.ipv4.ip_default_ttl") == "77")
        #expect(try await subject.mutationStamp(of: sandbox) == MutationStamp(writes: 3))
    }

    @Test("rtnl/kernel: every request sent counts, dumps do not")
    func rtnlJournal() async throws {
        let subject = RtnlKernelSubject()
        let sandbox = try await subject.makeSandbox(seed: 0)
        defer { sandbox.namespace.remove() }
        let source = subject.source(for: sandbox)
        let desired: RtnlDesiredState = [.address("10.1.1.5/24", on: "eth0"), .route(to: "10.200.1.0/24", via: "10.1.1.1")]
        let first = try await source.reconcile(scope: sandbox.scope, desired: desired, lastApplied: .empty, options: .default)
        #expect(first.converged)
        let written = try #require(try await subject.mutationStamp(of: sandbox))
        #expect(written == MutationStamp(writes: first.applied.count))
        _ = try await subject.snapshot(of: sandbox)
        let again = try await source.reconcile(scope: sandbox.scope, desired: desired, lastApplied: first.lastApplied, options: .default)
        #expect(again.planned.isEmpty)
        #expect(try await subject.mutationStamp(of: sandbox) == written)
    }
}
