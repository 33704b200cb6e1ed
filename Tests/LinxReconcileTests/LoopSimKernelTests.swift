import LinxKernelSim
import LinxReconcile
import Testing

/// The loop driving the real reconcilers on the simulated kernel, on virtual time.
@Suite("ReconcileLoop on the simulated kernel", .timeLimit(.minutes(1)))
struct LoopSimKernelTests {
    typealias RtnlLoop = ReconcileLoop<RtnlSource, VirtualClock>
    typealias SysctlLoop = ReconcileLoop<SysctlSource, VirtualClock>

    static let network: RtnlDesiredState = [
        .address("10.0.0.2/24", on: "eth0"),
        .defaultRoute(via: "10.0.0.1"),
        .route(to: "10.50.0.0/16", via: "10.0.0.254"),
    ]

    /// A booted simulated machine with one NIC.
    func machine(seed: UInt64 = 7) throws -> SimKernel {
        let kernel = SimKernel(seed: seed)
        try kernel.addLink("eth0")
        return kernel
    }

    func rtnlLoop(
        _ kernel: SimKernel, desired: RtnlDesiredState = network,
        configuration: ReconcileLoopConfiguration, clock: VirtualClock
    ) -> RtnlLoop {
        ReconcileLoop(
            source: RtnlSource(backend: kernel), scope: .current, desired: desired, options: RtnlOptions(),
            lastApplied: .empty, configuration: configuration, clock: clock)
    }

    /// Whether the kernel already is in `desired`: a plan computed afresh is empty.
    func converged(_ kernel: SimKernel, _ desired: RtnlDesiredState, _ lastApplied: RtnlLastApplied) async throws -> Bool {
        try await RtnlReconciler(backend: kernel).plan(in: .current, desired: desired, lastApplied: lastApplied).isEmpty
    }

    func ownedRoute(_ kernel: SimKernel, to destination: String) throws -> Route {
        let prefix = try IPPrefix(destination)
        return try #require(try kernel.snapshot().routes.first { $0.proto == RouteProtocol.linx && $0.destination == prefix })
    }

    func hasOwnedRoute(_ kernel: SimKernel, to destination: String) throws -> Bool {
        let prefix = try IPPrefix(destination)
        return try kernel.snapshot().routes.contains { $0.proto == RouteProtocol.linx && $0.destination == prefix }
    }

    @Test("monitor off: simulator drift is healed within one interval", arguments: [1, 2, 3] as [UInt64])
    func driftHealedByTimer(seed: UInt64) async throws {
        let kernel = try machine(seed: seed)
        let clock = VirtualClock()
        let loop = rtnlLoop(kernel, configuration: toyConfiguration(monitor: false), clock: clock)
        try await withRunningLoop(loop) {
            await loop.settle(passes: 1)
            #expect(try await converged(kernel, Self.network, loop.lastApplied))
            // Our route goes (an operator's `ip route del`), plus seeded random drift.
            try kernel.foreign.deleteRoute(try ownedRoute(kernel, to: "10.50.0.0/16"))
            kernel.drift(steps: 20)
            #expect(try await !converged(kernel, Self.network, loop.lastApplied))
            await clock.advance(by: .seconds(5) - .nanoseconds(1), settling: loop)
            #expect(try !hasOwnedRoute(kernel, to: "10.50.0.0/16"))
            await clock.advance(by: .nanoseconds(1), settling: loop)
            #expect(await loop.lastReport?.converged == true)
            #expect(try await converged(kernel, Self.network, loop.lastApplied))
        }
    }

    @Test("monitor on: a deleted owned route is back within the debounce")
    func driftHealedByHint() async throws {
        let kernel = try machine()
        let clock = VirtualClock()
        let loop = rtnlLoop(kernel, configuration: toyConfiguration(interval: .every(.seconds(30))), clock: clock)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            let hints = await loop.probe.hintsReceived
            try kernel.foreign.deleteRoute(try ownedRoute(kernel, to: "10.50.0.0/16"))
            await loop.waitUntil { $0.hintsReceived > hints && $0.isIdle }
            await clock.advance(by: .milliseconds(100), settling: loop)
            #expect(try hasOwnedRoute(kernel, to: "10.50.0.0/16"))
            #expect(try await converged(kernel, Self.network, loop.lastApplied))
            #expect(clock.now.offset < .seconds(30))
        }
    }

    @Test("a burst of 1,000 kernel events inside the debounce window gives one pass")
    func burstOfEvents() async throws {
        let kernel = try machine()
        kernel.eventBufferCapacity = 4_096
        let clock = VirtualClock()
        let loop = rtnlLoop(kernel, configuration: toyConfiguration(interval: .every(.seconds(30))), clock: clock)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            let hints = await loop.probe.hintsReceived
            // 500 foreign routes come and go: 1,000 events, none of them ours.
            let eth0 = try #require(kernel.ifindex(of: "eth0"))
            for i in 0..<500 {
                let route = Route(
                    destination: try IPPrefix("172.16.\(i / 250).\(i % 250)/32"), ifindex: eth0,
                    proto: RouteProtocol.static, scope: 253)
                try kernel.foreign.addRoute(route)
                try kernel.foreign.deleteRoute(route)
            }
            try kernel.foreign.deleteRoute(try ownedRoute(kernel, to: "10.50.0.0/16"))
            await loop.waitUntil { $0.hintsReceived > hints && $0.isIdle }
            let before = await loop.probe.passesCompleted
            await clock.advance(by: .milliseconds(100), settling: loop)
            #expect(await loop.probe.passesCompleted == before + 1)
            #expect(try hasOwnedRoute(kernel, to: "10.50.0.0/16"))
        }
    }

    @Test("setDesired converges on the new state and releases what the old one owned")
    func setDesiredReleases() async throws {
        let kernel = try machine()
        let clock = VirtualClock()
        let loop = rtnlLoop(kernel, configuration: toyConfiguration(monitor: false), clock: clock)
        let eth0 = try #require(kernel.ifindex(of: "eth0"))
        let foreign = Route(
            destination: try IPPrefix("192.168.9.0/24"), ifindex: eth0, proto: RouteProtocol.static, scope: 253)
        try await withRunningLoop(loop) {
            await loop.settle(passes: 1)
            try kernel.foreign.addRoute(foreign)
            // A new subnet: the old address (and the routes through it) must go.
            let next: RtnlDesiredState = [
                .address("10.0.1.3/24", on: "eth0"),
                .defaultRoute(via: "10.0.1.1"),
            ]
            await loop.setDesired(next)
            await clock.advance(by: .milliseconds(100), settling: loop)
            #expect(await loop.lastReport?.converged == true)
            #expect(try await converged(kernel, next, loop.lastApplied))
            let snapshot = try kernel.snapshot()
            let addresses = snapshot.addresses.map { "\($0.address)/\($0.prefixLength)" }
            #expect(!addresses.contains("10.0.0.2/24"))
            #expect(addresses.contains("10.0.1.3/24"))
            #expect(try !hasOwnedRoute(kernel, to: "10.50.0.0/16"))
            #expect(snapshot.route(foreign.key) != nil, "a foreign route must never be touched")
        }
    }

    @Test("sysctl: setDesired reverts a released key, the timer heals drift")
    func sysctlLoop() async throws {
        let kernel = try machine()
        let clock = VirtualClock()
        let loop = SysctlLoop(
            source: SysctlSource(backend: kernel), scope: .current,
            desired: ["net.ipv4.ip_forward": 1, "net.ipv4.conf.all.rp_filter": 2],
            options: SysctlOptions(revertOnRelease: true), lastApplied: .empty,
            configuration: toyConfiguration(), clock: clock)
        try await withRunningLoop(loop) {
            await loop.settle(passes: 1)
            #expect(await loop.probe.monitorUp == false)
            #expect(kernel.sysctlValue("net.ipv4.ip_forward") == "1")
            try kernel.foreign.writeSysctl("net.ipv4.conf.all.rp_filter", "0")
            await clock.advance(by: .seconds(5), settling: loop)
            #expect(kernel.sysctlValue("net.ipv4.conf.all.rp_filter") == "2")
            await loop.setDesired(["net.ipv4.conf.all.rp_filter": 2])
            await clock.advance(by: .milliseconds(100), settling: loop)
            #expect(kernel.sysctlValue("net.ipv4.ip_forward") == "0")
            #expect(await loop.lastReport?.converged == true)
        }
    }

    @Test("cgroup: the timer heals a changed limit, setDesired writes a released file's default back")
    func cgroupLoop() async throws {
        let kernel = try machine()
        let cgroup = "/sys/fs/cgroup/web-42"
        try kernel.createCgroup(cgroup)
        let original = try #require(kernel.cgroupValue("memory.max", in: cgroup))
        let clock = VirtualClock()
        let loop = ReconcileLoop(
            source: CgroupSource(backend: kernel), scope: cgroup,
            desired: ["pids.max": 100, "memory.max": 268_435_456], options: CgroupOptions(), lastApplied: .empty,
            configuration: toyConfiguration(), clock: clock)
        try await withRunningLoop(loop) {
            await loop.settle(passes: 1)
            #expect(await loop.lastReport?.converged == true)
            #expect(kernel.cgroupValue("pids.max", in: cgroup) == "100")
            try kernel.foreign.writeCgroup("pids.max", "5", in: cgroup)
            await clock.advance(by: .seconds(5), settling: loop)
            #expect(kernel.cgroupValue("pids.max", in: cgroup) == "100")
            await loop.setDesired(["pids.max": 200])
            await clock.advance(by: .milliseconds(100), settling: loop)
            #expect(kernel.cgroupValue("pids.max", in: cgroup) == "200")
            #expect(kernel.cgroupValue("memory.max", in: cgroup) == original)
        }
    }

    @Test("injected kernel errors: the loop survives, keeps lastApplied, backs off, converges once faults stop")
    func injectedErrors() async throws {
        let kernel = try machine()
        let clock = VirtualClock()
        let loop = rtnlLoop(kernel, configuration: toyConfiguration(monitor: false), clock: clock)
        let log = EventLog(loop.events)
        try await withRunningLoop(loop) {
            await loop.settle(passes: 1)
            let owned = await loop.lastApplied
            #expect(!owned.addresses.isEmpty)
            try kernel.foreign.deleteRoute(try ownedRoute(kernel, to: "10.50.0.0/16"))
            kernel.failNext(3, of: .routeDump, with: .ioError)
            await clock.advance(by: .seconds(5), settling: loop)
            #expect(await loop.probe.failures == 1)
            for ceiling in [Duration.milliseconds(250), .milliseconds(500), .seconds(1)] {
                await clock.advance(by: ceiling * 0.8 - .nanoseconds(1), settling: loop)
                #expect(try !hasOwnedRoute(kernel, to: "10.50.0.0/16"))
                await clock.advance(by: ceiling * 0.2 + .nanoseconds(1), settling: loop)
                #expect(await loop.lastApplied == owned)
            }
            #expect(await loop.probe.failures == 0)
            #expect(try hasOwnedRoute(kernel, to: "10.50.0.0/16"))
            // A refused op (fail-fast, the rest pending) is retried the same way.
            try kernel.foreign.deleteRoute(try ownedRoute(kernel, to: "10.50.0.0/16"))
            kernel.failNext(1, of: .addRoute, with: .notPermitted)
            await clock.advance(by: .seconds(5), settling: loop)
            #expect(await loop.lastReport?.failed.first?.error.errno == .notPermitted)
            await clock.advance(by: .milliseconds(250), settling: loop)
            #expect(await loop.lastReport?.converged == true)
            #expect(try await converged(kernel, Self.network, loop.lastApplied))
        }
        let events = await log.all
        #expect(events.compactMap(\.error).count == 3)
        #expect(kernel.faultsFired[.errno] == 4)
    }

    @Test("monitor death: the loop resyncs at once and resubscribes with backoff")
    func monitorDeath() async throws {
        let kernel = try machine()
        let clock = VirtualClock()
        let loop = rtnlLoop(kernel, configuration: toyConfiguration(interval: .never), clock: clock)
        let log = EventLog(loop.events)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            kernel.failNext(2, of: .subscribe, with: .noBufferSpace)
            kernel.killMonitors()
            await loop.waitUntil { $0.monitorLosses == 1 && $0.passesCompleted >= 2 && $0.isIdle }
            // Deaf: an owned route goes with nobody to hear it.
            try kernel.foreign.deleteRoute(try ownedRoute(kernel, to: "10.50.0.0/16"))
            // Two failed resubscriptions (<= 100 ms, then <= 200 ms), then one that works.
            for step in [Duration.milliseconds(100), .milliseconds(200), .milliseconds(400)] {
                clock.advance(by: step)
                await loop.settle()
            }
            await loop.waitUntil { $0.subscriptions == 2 && $0.monitorUp && $0.isIdle }
            #expect(try hasOwnedRoute(kernel, to: "10.50.0.0/16"))
            #expect(kernel.faultsFired[.monitorDeath] == 1)
        }
        let events = await log.all
        #expect(events.filter(\.isMonitorLost).count == 1)
        #expect(events.filter(\.isMonitorResubscribed).count == 1)
    }

    @Test("reboot: the loop resyncs at once, survives the missing NIC, and converges once it is back")
    func reboot() async throws {
        let kernel = try machine()
        let clock = VirtualClock()
        let loop = rtnlLoop(kernel, configuration: toyConfiguration(interval: .every(.seconds(30))), clock: clock)
        let log = EventLog(loop.events)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            let before = await loop.probe.passesCompleted
            kernel.reboot()  // eth0 is gone; monitors see an overflow
            await loop.waitUntil { $0.passesCompleted > before && $0.isIdle }
            #expect(clock.now == .zero)
            #expect(await loop.probe.failures >= 1)
            #expect(await loop.probe.finished == false)
            // The NIC comes back (a udev rule, an operator): the retry converges.
            try kernel.addLink("eth0")
            // At most the retry backoff's cap away, however many passes failed.
            await clock.advance(by: .seconds(30), settling: loop)
            #expect(await loop.probe.failures == 0)
            #expect(await loop.lastReport?.converged == true)
            #expect(try await converged(kernel, Self.network, loop.lastApplied))
        }
        let events = await log.all
        #expect(events.contains { $0.error != nil })
    }

    @Test("ENOBUFS: the loop resyncs at once, without waiting for the debounce")
    func overflow() async throws {
        let kernel = try machine()
        let clock = VirtualClock()
        let loop = rtnlLoop(kernel, configuration: toyConfiguration(interval: .never, debounce: .seconds(10)), clock: clock)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            let before = await loop.probe.passesCompleted
            try kernel.foreign.deleteRoute(try ownedRoute(kernel, to: "10.50.0.0/16"))
            kernel.overflowSubscribers()
            await loop.waitUntil { $0.passesCompleted > before && $0.isIdle }
            #expect(try hasOwnedRoute(kernel, to: "10.50.0.0/16"))
            #expect(clock.now == .zero)
            #expect(kernel.faultsFired[.overflow] ?? 0 >= 1)
        }
    }
}
