import Glibc
import LinxKernelSim
import LinxLinux
import LinxReconcile
import LinxTestSupport
import Logging
import Testing

// Real kernel: needs root for `ip netns add`; skipped (with the reason
// printed) otherwise. Everything happens in throwaway namespaces.
@Suite("namespace lifetime (real kernel)", .enabled(if: RealKernel.available, "needs root and iproute2"), .timeLimit(.minutes(1)))
struct NamespaceLifetimeTests {
    /// The kernel's behaviour the simulator models (EventTests'
    /// monitorPinsDeletedNamespace): after `ip netns del`, a monitor socket
    /// keeps its namespace alive, never errors, and hears nothing from the
    /// namespace that takes the name; the old one still delivers its own
    /// changes (the sentinel, made through an fd kept on it).
    @Test func aMonitorKeepsItsDeletedNamespaceAliveAndSilent() async throws {
        try await ThrowawayNamespace.with(links: []) { ns in
            let path = "/run/netns/\(ns.name)"
            let old = try #require(NamespaceHolders.identity(of: path))
            let kernel = LinuxKernel()
            let recorder = EventRecorder(try await kernel.events(in: ns.scope))
            defer { recorder.stop() }
            let pin = open(path, O_RDONLY | O_CLOEXEC)
            try #require(pin >= 0)
            defer { close(pin) }

            try Command.check(["ip", "netns", "del", ns.name])
            try Command.check(["ip", "netns", "add", ns.name])
            let new = try #require(NamespaceHolders.identity(of: path))
            #expect(new != old)
            try ns.ip("link", "add", "marker0", "type", "bridge")
            try Command.check(["nsenter", "--net=/proc/\(getpid())/fd/\(pin)", "ip", "link", "add", "sentinel0", "type", "bridge"])

            #expect(await recorder.sees(within: .seconds(5)) { event in
                if case .link(let link, .new) = event { return link.name == "sentinel0" }
                return false
            })
            #expect(!(await recorder.sees(within: .zero) { event in
                if case .link(let link, _) = event { return link.name == "marker0" }
                return false
            }))
            // The monitor's socket is still in the old namespace, which has no name.
            #expect(NamespaceHolders.sockets()[old, default: 0] >= 1)
        }
    }

    @Test func theNameWatchFollowsDeleteAndRecreate() async throws {
        try await ThrowawayNamespace.with(links: []) { ns in
            let kernel = LinuxKernel()
            var watch = await kernel.namespaceIdentities(of: ns.scope).makeAsyncIterator()
            let first = await watch.next()
            #expect(first == .some(NamespaceHolders.identity(of: "/run/netns/\(ns.name)")))
            try Command.check(["ip", "netns", "del", ns.name])
            #expect(await watch.next() == .some(nil))
            try Command.check(["ip", "netns", "add", ns.name])
            // The plain file may show (as nil, already reported) before the bind mount.
            // Not necessarily another identity: nothing holds the old
            // namespace here, so once it is freed the kernel may hand its
            // inode number to the new one (seen once under load). The
            // delete in between is what the watch must not miss.
            let next = await watch.next()
            #expect(next == .some(NamespaceHolders.identity(of: "/run/netns/\(ns.name)")))
            #expect(next != .some(nil))
        }
    }

    /// Delete and re-create a named namespace under a running loop with no
    /// timer: the loop notices the name's new inode, drops the old monitor
    /// and worker, follows the new namespace and resyncs at once (no clock
    /// advance), heals drift there from monitor hints within the debounce,
    /// and leaves no socket or thread in the old namespace.
    @Test func aLoopFollowsARecreatedNamespace() async throws {
        try await ThrowawayNamespace.with(links: []) { ns in
            let path = "/run/netns/\(ns.name)"
            // lo exists in every new namespace, so the re-created one can be
            // converged the moment it has the name; an address on a down link is allowed.
            let desired: RtnlDesiredState = [.address("10.77.0.2/24", on: "lo")]
            let clock = VirtualClock()
            let loop = ReconcileLoop(
                source: RtnlSource(backend: LinuxKernel()), scope: ns.scope, desired: desired, options: RtnlOptions(),
                lastApplied: .empty,
                configuration: ReconcileLoopConfiguration(
                    interval: .never, jitterSeed: 1, label: "pod",
                    logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })),
                clock: clock)
            func hasAddress() throws -> Bool { try ns.ip("-4", "-o", "addr", "show", "dev", "lo").contains("10.77.0.2/24") }

            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await loop.run() }
                defer { loop.stop() }
                await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
                #expect(try hasAddress())
                let old = try #require(NamespaceHolders.identity(of: path))
                #expect(NamespaceHolders.sockets()[old, default: 0] >= 1)
                // Read before the change: the loop may have followed it by the time `ip` returns.
                let passes = await loop.probe.passesCompleted

                try Command.check(["ip", "netns", "del", ns.name])
                try Command.check(["ip", "netns", "add", ns.name])
                let new = try #require(NamespaceHolders.identity(of: path))
                #expect(new != old)
                await loop.waitUntil { $0.monitorLosses == 1 && $0.monitorUp && $0.passesCompleted > passes && $0.isIdle }
                #expect(try hasAddress(), "the new namespace was not converged")
                #expect(await loop.health.converged)
                #expect(await loop.health.monitor == .up)

                // Drift in the new namespace, healed by its monitor within the debounce.
                let hints = await loop.probe.hintsReceived
                try ns.ip("addr", "del", "10.77.0.2/24", "dev", "lo")
                await loop.waitUntil { $0.hintsReceived > hints && $0.isIdle }
                #expect(try !hasAddress())
                let beforeHeal = await loop.probe.passesCompleted
                clock.advance(by: .milliseconds(100))
                await loop.waitUntil { $0.isIdle && $0.passesCompleted > beforeHeal }
                #expect(try hasAddress(), "drift in the new namespace was not healed")

                // The old namespace is released: none of our sockets or threads is in it.
                let released = await RealKernel.poll(for: .seconds(5)) {
                    NamespaceHolders.sockets()[old] == nil && NamespaceHolders.threads()[old] == nil
                }
                #expect(released, "still in the old namespace: sockets \(NamespaceHolders.sockets()[old] ?? 0), threads \(NamespaceHolders.threads()[old] ?? 0)")
                loop.stop()
                try await group.waitForAll()
            }
        }
    }

    /// `/proc/PID/ns/net` as a path scope is the pid scope: when the process
    /// exits, the loop's monitor is lost and released (although the
    /// namespace itself lives on under its name), passes fail with the scope
    /// unavailable, and nothing follows the pid to whichever process gets it next.
    @Test func aProcessPathScopeEndsWithItsProcess() async throws {
        try await ThrowawayNamespace.with(links: []) { ns in
            let child = try #require(Command.spawn(["ip", "netns", "exec", ns.name, "sleep", "600"]))
            // Killed and reaped once: after the reap the pid may be another process's.
            var reaped = false
            defer {
                if !reaped {
                    kill(child, SIGKILL)
                    Command.wait(child)
                }
            }
            let path = "/proc/\(child)/ns/net"
            let named = try #require(NamespaceHolders.identity(of: "/run/netns/\(ns.name)"))
            // `ip netns exec` enters the namespace, then execs sleep under the same pid.
            #expect(await RealKernel.poll(for: .seconds(3)) { NamespaceHolders.identity(of: path) == named })
            let desired: RtnlDesiredState = [.address("10.78.0.2/24", on: "lo")]
            let clock = VirtualClock()
            let loop = ReconcileLoop(
                source: RtnlSource(backend: LinuxKernel()), scope: .path(path), desired: desired, options: RtnlOptions(),
                lastApplied: .empty,
                configuration: ReconcileLoopConfiguration(
                    interval: .never, jitterSeed: 1, label: "process",
                    logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })),
                clock: clock)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await loop.run() }
                defer { loop.stop() }
                await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
                #expect(try ns.ip("-4", "-o", "addr", "show", "dev", "lo").contains("10.78.0.2/24"))
                #expect(NamespaceHolders.sockets()[named, default: 0] >= 1)

                kill(child, SIGKILL)
                Command.wait(child)
                reaped = true
                // The pidfd turning readable is the signal: no clock advance.
                await loop.waitUntil { $0.monitorLosses == 1 && !$0.monitorUp && $0.failures >= 1 && $0.isIdle }
                let down = await loop.health
                #expect(down.monitor == .down)
                guard case .failed(.scopeUnavailable)? = down.lastPass?.outcome else {
                    Issue.record("expected the pass to find the process gone, got \(String(describing: down.lastPass))")
                    return
                }
                // Released, although the namespace lives on under its name.
                let released = await RealKernel.poll(for: .seconds(5)) {
                    NamespaceHolders.sockets()[named] == nil && NamespaceHolders.threads()[named] == nil
                }
                #expect(released, "still in the process's namespace: sockets \(NamespaceHolders.sockets()[named] ?? 0), threads \(NamespaceHolders.threads()[named] ?? 0)")
                // A retry fails the same way: the pidfd pins the process, never the pid.
                await #expect(throws: ReconcileError.self) { try await loop.reconcileNow() }
                loop.stop()
                try await group.waitForAll()
            }
        }
    }
}
