import LinxKernelSim
import LinxReconcile
import SystemPackage
import Testing

@Suite("Faults")
struct FaultTests {
    /// v0/v1 veth pair, 10.0.0.2/24 on v0.
    func setup(seed: UInt64 = 1) async throws -> (SimKernel, Int32) {
        let kernel = SimKernel(seed: seed)
        let (v0, _) = try kernel.addVethPair("v0", "v1")
        #expect(await ok(kernel, .addAddress(addr("10.0.0.2/24", on: v0))))
        return (kernel, v0)
    }

    let route = Route(destination: try! IPPrefix("10.1.0.0/24"), gateway: try! IPAddress("10.0.0.1"))

    @Test("failNext fails exactly N operations of the kind with the errno, then the kind works again")
    func failNext() async throws {
        let (kernel, _) = try await setup()
        kernel.failNext(2, of: .addRoute, with: .noBufferSpace)
        #expect(await errno(send(kernel, .addRoute(route))) == .noBufferSpace)
        #expect(await ok(kernel, .addAddress(addr("10.0.0.3/24", on: 2))))  // another kind is untouched
        #expect(await errno(send(kernel, .addRoute(route))) == .noBufferSpace)
        #expect(await ok(kernel, .addRoute(route)))
        #expect(kernel.faultsFired[.errno] == 2)
        kernel.failNext(1, of: .sysctlWrite, with: .resourceBusy)
        #expect(await errno { () async throws(KernelError) in try await kernel.write(try! SysctlKey("net.ipv4.ip_forward"), value: "1", in: .current) } == .resourceBusy)
        #expect(kernel.sysctlValue("net.ipv4.ip_forward") == "0")
        kernel.failNext(1, of: .cgroupRead, with: .ioError)
        #expect(await errno { () async throws(KernelError) in try await kernel.read("cgroup.procs", in: "/sys/fs/cgroup") } == .ioError)
    }

    @Test("failFraction fails about that fraction, deterministically per seed")
    func failFraction() async throws {
        func failures(seed: UInt64) async throws -> [Bool] {
            let (kernel, _) = try await setup(seed: seed)
            kernel.failFraction(0.3, of: .routeDump, with: .noMemory)
            var out: [Bool] = []
            for _ in 0..<200 {
                out.append(await errno { () async throws(KernelError) in try await kernel.routes(in: .current, matching: .all) } == .noMemory)
            }
            #expect(kernel.faultsFired[.errno] == out.filter { $0 }.count)
            return out
        }
        let a = try await failures(seed: 7)
        #expect(try await failures(seed: 7) == a)
        #expect((40...80).contains(a.filter { $0 }.count))
    }

    @Test("interrupted dumps throw EINTR and retryingInterruptedDumps gets the full dump")
    func interruptedDumps() async throws {
        let (kernel, _) = try await setup()
        kernel.interruptNextDumps(2, of: .routeDump)
        #expect(await errno { () async throws(KernelError) in try await kernel.routes(in: .current, matching: .all) } == .interrupted)
        let links = try await kernel.links(in: .current)  // another dump kind is not interrupted
        #expect(links.count == 3)
        let routes = try await retryingInterruptedDumps { () async throws(KernelError) in try await kernel.routes(in: .current, matching: .all) }
        #expect(routes.count == kernel.routeCount())
        #expect(kernel.faultsFired[.interruptedDump] == 2)
    }

    @Test("EEXIST race: a concurrent writer creates the same object just before our add")
    func eexistRace() async throws {
        let (kernel, v0) = try await setup()
        kernel.raceNextCreates(2)
        #expect(await errno(send(kernel, .addRoute(route))) == .fileExists)
        #expect(try kernel.snapshot().route(route.key)?.gateway == route.gateway)  // the object exists: someone made it
        #expect(await errno(send(kernel, .addAddress(addr("10.0.0.9/24", on: v0)))) == .fileExists)
        #expect(kernel.faultsFired[.eexistRace] == 2)
        #expect(kernel.history.contains { $0.actor == .foreign })
    }

    @Test("an interface vanishes between observe and apply: ENODEV, its routes and sysctls gone")
    func vanish() async throws {
        let (kernel, v0) = try await setup()
        #expect(await ok(kernel, .addRoute(route)))
        let observed = try await kernel.links(in: .current)
        #expect(observed.contains { $0.name == "v0" })
        kernel.vanishBeforeNextApply("v0")
        let results = await kernel.execute([.addAddress(addr("10.0.0.5/24", on: v0))], in: .current, stopOnError: true)
        #expect(results.map(errno) == [.noSuchDevice])
        #expect(kernel.faultsFired[.vanish] == 1)
        let snap = try kernel.snapshot()
        #expect(!snap.routes.contains { $0.ifindex == v0 })
        #expect(kernel.sysctlValue("net.ipv4.conf.v0.forwarding") == nil)
    }

    @Test("ENOBUFS on subscribers: the reader is told to resync")
    func overflowFault() async throws {
        let (kernel, _) = try await setup()
        let stream = try await kernel.events(in: .current)
        kernel.overflowSubscribers()
        var iterator = stream.makeAsyncIterator()
        #expect(try await iterator.next() == .overflow)
        #expect(kernel.faultsFired[.overflow] == 1)
    }

    @Test("reboot puts every namespace, sysctl and cgroup file back to boot state")
    func reboot() async throws {
        let (kernel, _) = try await setup()
        try kernel.createNamespace(.named("a"))
        try kernel.addLink("w0", in: .named("a"))
        try kernel.createCgroup("/sys/fs/cgroup/app")
        try kernel.foreign.writeCgroup("pids.max", "10", in: "/sys/fs/cgroup/app")
        try kernel.foreign.writeSysctl("vm.swappiness", "1")
        try kernel.foreign.writeSysctl("net.ipv4.ip_forward", "1")
        let booted = try SimKernel().snapshot()
        kernel.reboot()
        #expect(try kernel.snapshot() == booted)
        #expect(try kernel.snapshot(of: .named("a")).links.map(\.name) == ["lo"])
        #expect(kernel.sysctlValue("vm.swappiness") == "60")
        #expect(kernel.sysctlValue("net.ipv4.ip_forward") == "0")
        #expect(kernel.cgroupValue("pids.max", in: "/sys/fs/cgroup/app") == "max")
        #expect(kernel.faultsFired[.reboot] == 1)
    }

    @Test("drift changes routes, addresses, sysctls and cgroup values, ours included")
    func drift() async throws {
        let (kernel, v0) = try await setup(seed: 3)
        try kernel.createCgroup("/sys/fs/cgroup/app")
        for i in 0..<20 {
            #expect(await ok(kernel, .addRoute(Route(destination: try! IPPrefix("10.2.\(i).0/24"), gateway: ip("10.0.0.1")))))
        }
        let before = try kernel.snapshot()
        let sysctlsBefore = try await kernel.keys(under: try! SysctlKey("net"), in: .current).map { kernel.sysctlValue($0.description) }
        kernel.drift(steps: 60)
        let after = try kernel.snapshot()
        let fired = try #require(kernel.faultsFired[.drift])
        #expect(fired > 20)
        #expect(before.routes != after.routes)
        let ours = { (s: SimNetnsSnapshot) in Set(s.routes.filter { $0.proto == RouteProtocol.linx && $0.ifindex == v0 }.map(\.key)) }
        #expect(ours(before) != ours(after))
        let sysctlsAfter = try await kernel.keys(under: try! SysctlKey("net"), in: .current).map { kernel.sysctlValue($0.description) }
        #expect(sysctlsBefore != sysctlsAfter)
        let files = ["memory.max", "memory.high", "pids.max", "cpu.max", "cpu.weight"]
        #expect(files.contains { kernel.cgroupValue($0, in: "/sys/fs/cgroup/app") != SimKernel().cgroupValueAfterCreate($0) })
    }

    @Test("a random fault plan fires several kinds, and the same seed fires the same faults")
    func randomPlan() async throws {
        func run(seed: UInt64) async throws -> ([SimFaultKind: Int], String) {
            let (kernel, v0) = try await setup(seed: seed)
            let events = try await kernel.events(in: .current)
            defer { withExtendedLifetime(events) {} }
            kernel.arm(SimFaultPlan(rate: 0.3))
            for i in 0..<300 {
                let r = Route(destination: try! IPPrefix("10.3.\(i % 50).0/24"), gateway: ip("10.0.0.1"))
                let r2 = Route(destination: try! IPPrefix("10.4.\(i % 50).0/24"), gateway: ip("10.0.0.1"))
                // Batches of two, so a mid-batch refusal can fire too.
                _ = await kernel.execute(
                    i % 3 == 0 ? [.deleteRoute(r), .deleteRoute(r2)] : [.addRoute(r), .addRoute(r2)], in: .current, stopOnError: false)
                _ = try? await kernel.routes(in: .current, matching: .all)
                if i % 50 == 0, kernel.ifindex(of: "v0") == nil {
                    let (a, _) = try kernel.addVethPair("v0", "v1")
                    _ = a
                    _ = await send(kernel, .addAddress(addr("10.0.0.2/24", on: a)))
                }
            }
            _ = v0
            return (kernel.faultsFired, kernel.historyText)
        }
        let (fired, history) = try await run(seed: 11)
        // every kind the plan enables (all but reboot) fired at least once
        #expect(Set(fired.keys) == Set(SimFaultKind.allCases).subtracting([.reboot]), "\(fired)")
        let (again, historyAgain) = try await run(seed: 11)
        #expect(again == fired)
        #expect(historyAgain == history)
        let (_, other) = try await run(seed: 12)
        #expect(other != history)
    }
}

extension SimKernel {
    /// The default value of a cgroup file in a fresh cgroup.
    func cgroupValueAfterCreate(_ file: String) -> String? {
        try? createCgroup("/sys/fs/cgroup/probe")
        return cgroupValue(file, in: "/sys/fs/cgroup/probe")
    }
}
