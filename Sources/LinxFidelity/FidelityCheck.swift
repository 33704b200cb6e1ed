import LinxKernelSim
import LinxReconcile

/// The differential check: the same seeded sequence driven through the
/// backend protocols on two kernels (the simulator and the real one, or
/// any two ``FidelityKernel``s), compared after every step.
///
/// After each step it compares the outcome (done, or errno and ext-ack
/// text; a sysctl write's text is the backend's own, so only its errno),
/// the links, each link's addresses in dump order, every route of every
/// table, and the sysctls the sequence wrote with the keys they affect;
/// after the last step every `net.` key of both. The real kernel finishes
/// some changes in deferred work (carrier through linkwatch, an IPv6
/// address's routes after DAD), so a state difference counts only if it
/// outlasts ``Options/settle``.
public struct FidelityCheck: Sendable {
    /// How a check runs.
    public struct Options: Sendable, Hashable {
        /// Steps per sequence.
        public var steps: Int
        /// The subsystems the sequences draw from.
        public var subsystems: [FidelitySubsystem]
        /// How long a state difference may last before it counts.
        public var settle: Duration
        /// Whether a sequence ends with a comparison of every `net.` key.
        public var wholeTree: Bool
        /// Whether the sysctl draws write every catalog key (see ``FidelityCheck/writableKeys(allKeys:)``);
        /// only recorded here, so the replay command says it.
        public var allKeys = false

        /// 40 steps over rtnl and sysctl, two seconds to settle, the whole tree compared at the end.
        public init(
            steps: Int = 40, subsystems: [FidelitySubsystem] = FidelitySubsystem.allCases, settle: Duration = .seconds(2),
            wholeTree: Bool = true
        ) {
            self.steps = steps
            self.subsystems = subsystems
            self.settle = settle
            self.wholeTree = wholeTree
        }
    }

    /// The first step where the two kernels disagreed.
    public struct Divergence: Error, Sendable, CustomStringConvertible {
        /// The seed of the sequence.
        public var seed: UInt64
        /// The options it ran with.
        public var options: Options
        /// The sequence up to and including the diverging step.
        public var sequence: [FidelityStep]
        /// The index of the diverging step in ``sequence`` (the whole
        /// sequence's length for the final sysctl comparison).
        public var step: Int
        /// What differed: `outcome`, `state` or `sysctl tree`.
        public var what: String
        /// The simulator's side (outcome and lines only it has).
        public var sim: [String]
        /// The real kernel's side.
        public var kernel: [String]
        /// The state both kernels agreed on before the diverging step
        /// (links, addresses, routes), to read the step against.
        public var before: [String] = []

        /// The command that runs this sequence again.
        public var replayCommand: String {
            "linx fidelity --seeds 1 --seed \(seed) --steps \(options.steps) --subsystem "
                + options.subsystems.map(\.rawValue).joined(separator: ",") + (options.allKeys ? " --all-keys" : "")
        }

        public var description: String {
            var text = "divergence at seed \(seed), step \(step) (\(what)):\n"
            for (i, s) in sequence.enumerated() { text += "  \(i == step ? ">" : " ")\(i): \(s)\n" }
            text += "  sim:\n" + sim.map { "    \($0)\n" }.joined()
            text += "  kernel:\n" + kernel.map { "    \($0)\n" }.joined()
            if !before.isEmpty { text += "  state before the step (both sides):\n" + before.map { "    \($0)\n" }.joined() }
            text += "  replay: \(replayCommand)"
            return text
        }
    }

    /// The sysctls the draws may write: every `net.` key the simulator's
    /// catalog has, minus the keys of the link the sequences delete and
    /// re-create (br0) and the string formats the simulator does not parse
    /// (``unparsed``).
    /// `allKeys` false keeps the keys whose handlers the simulator models
    /// and earlier rounds checked (``modelled``); the rest of the catalog
    /// has the kernel's ranges and rounding but not every handler's
    /// special rules yet.
    public static func writableKeys(allKeys: Bool = false) async -> [SysctlKey] {
        guard let sim = try? SimFidelityKernel(seed: 0),
            let keys = try? await sim.backend.keys(under: try! SysctlKey("net"), in: sim.scope)
        else { return [] }
        return keys.filter { key in
            guard !key.components.contains("br0"), !unparsed.contains(key.components.last!),
                !SimKernel.machineWideSysctls.contains(key)
            else { return false }
            if allKeys { return true }
            let c = key.components
            if c.count == 5, c[2] == "conf" { return modelled.contains("\(c[1]).conf.\(c[4])") }
            return modelled.contains(key.description)
        }
    }

    /// The keys whose handlers the simulator models in full: the
    /// forwarding, redirect, rp_filter, ARP and IPv6 conf files of every
    /// directory, and the namespace keys with cross-key rules.
    public static let modelled: Set<String> = [
        "net.ipv4.ip_forward", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ping_group_range", "net.ipv4.ip_default_ttl", "net.ipv4.ip_nonlocal_bind", "net.ipv4.tcp_syncookies",
        "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_time", "net.ipv4.icmp_echo_ignore_all", "net.core.somaxconn",
        "net.unix.max_dgram_qlen",
        "ipv4.conf.forwarding", "ipv4.conf.rp_filter", "ipv4.conf.accept_redirects", "ipv4.conf.send_redirects",
        "ipv4.conf.secure_redirects", "ipv4.conf.proxy_arp", "ipv4.conf.arp_ignore", "ipv4.conf.arp_announce",
        "ipv4.conf.log_martians", "ipv4.conf.accept_source_route", "ipv4.conf.promote_secondaries", "ipv4.conf.mc_forwarding",
        "ipv6.conf.disable_ipv6", "ipv6.conf.forwarding", "ipv6.conf.accept_ra", "ipv6.conf.accept_redirects",
        "ipv6.conf.autoconf", "ipv6.conf.hop_limit", "ipv6.conf.keep_addr_on_down", "ipv6.conf.dad_transmits",
    ]

    /// String files with a format of their own the simulator stores as
    /// given (port lists, ICMP rate masks, TCP Fast Open keys, stable
    /// secrets, the last random per link): never drawn, and a stable
    /// secret is left out of the tree comparison.
    public static let unparsed: Set<String> = ["ip_local_reserved_ports", "ratemask", "tcp_fastopen_key", "stable_secret"]

    public let options: Options
    let generator: FidelityGenerator

    /// A check with `options`, writing only `sysctlKeys` (see ``writableKeys(allKeys:)``).
    public init(options: Options = Options(), sysctlKeys: [SysctlKey]) {
        self.options = options
        generator = FidelityGenerator(subsystems: options.subsystems, sysctlKeys: sysctlKeys)
    }

    /// The sequence seed `seed` runs.
    public func sequence(seed: UInt64) -> [FidelityStep] { generator.sequence(seed: seed, count: options.steps) }

    /// Runs seed `seed` on `sim` and `kernel` (both freshly made for it);
    /// nil when they never disagreed. Closes neither.
    public func run<A: FidelityKernel, B: FidelityKernel>(seed: UInt64, sim: A, kernel: B) async throws -> Divergence? {
        try await run(sequence(seed: seed), seed: seed, sim: sim, kernel: kernel, wholeTree: options.wholeTree)
    }

    /// Runs an explicit sequence (a named case) on `sim` and `kernel`; nil
    /// when they never disagreed. `seed` only labels the report.
    /// `wholeTree` adds the final comparison of every `net.` key.
    public func run<A: FidelityKernel, B: FidelityKernel>(
        _ steps: [FidelityStep], seed: UInt64 = 0, sim: A, kernel: B, wholeTree: Bool = true
    ) async throws -> Divergence? {
        var watched: Set<SysctlKey> = []
        let clock = ContinuousClock()
        var agreed: [String] = []
        for (index, step) in steps.enumerated() {
            if case .sysctl(let key, _) = step { watched.formUnion(Self.affected(by: key)) }
            let a = await Self.perform(step, on: sim)
            let b = await Self.perform(step, on: kernel)
            if !Self.same(a, b, step) {
                return Divergence(
                    seed: seed, options: options, sequence: Array(steps[...index]), step: index, what: "outcome",
                    sim: [a.description], kernel: [b.description], before: agreed)
            }
            let keys = watched.sorted()
            let simState = try await FidelityState.read(sim.backend, in: sim.scope, sysctls: keys)
            var realState = try await FidelityState.read(kernel.backend, in: kernel.scope, sysctls: keys)
            let deadline = clock.now + options.settle
            while realState != simState && clock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
                realState = try await FidelityState.read(kernel.backend, in: kernel.scope, sysctls: keys)
            }
            if realState != simState {
                let (onlySim, onlyKernel) = simState.difference(from: realState)
                return Divergence(
                    seed: seed, options: options, sequence: Array(steps[...index]), step: index, what: "state",
                    sim: ["outcome \(a)"] + onlySim, kernel: ["outcome \(b)"] + onlyKernel, before: agreed)
            }
            agreed = simState.lines.filter { !$0.hasPrefix("sysctl ") }
        }
        guard wholeTree else { return nil }
        // Last, the whole net. tree: every key and value.
        let net = try! SysctlKey("net")
        func compared(_ key: SysctlKey) -> Bool { key.components.last != "stable_secret" && !SimKernel.machineWideSysctls.contains(key) }
        let simKeys = try await sim.backend.keys(under: net, in: sim.scope).filter(compared)
        let realKeys = try await kernel.backend.keys(under: net, in: kernel.scope).filter(compared)
        let simTree = try await FidelityState.read(sim.backend, in: sim.scope, sysctls: simKeys).sysctls
        let realTree = try await FidelityState.read(kernel.backend, in: kernel.scope, sysctls: realKeys).sysctls
        if simTree != realTree {
            let onlySim = simTree.keys.sorted().filter { simTree[$0] != realTree[$0] }.map { "\($0) = \(simTree[$0]!.debugDescription)" }
            let onlyKernel = realTree.keys.sorted().filter { simTree[$0] != realTree[$0] }.map { "\($0) = \(realTree[$0]!.debugDescription)" }
            return Divergence(
                seed: seed, options: options, sequence: steps, step: steps.count, what: "sysctl tree",
                sim: Array(onlySim.prefix(40)), kernel: Array(onlyKernel.prefix(40)))
        }
        return nil
    }

    /// The keys a write to `key` can change: the key itself, the same file
    /// in every conf directory of its family, and the forwarding, redirect
    /// and port-range keys the kernel ties together.
    static func affected(by key: SysctlKey) -> [SysctlKey] {
        var out = [key]
        let c = key.components
        if c.count == 5, c[0] == "net", c[2] == "conf" {
            for dir in ["all", "default", "lo"] + FidelityGenerator.links {
                out.append(SysctlKey(components: [c[0], c[1], "conf", dir, c[4]]))
            }
        }
        if c.last == "forwarding" || c.last == "ip_forward" {
            out.append(try! SysctlKey("net.ipv4.ip_forward"))
            out.append(try! SysctlKey("net.ipv4.conf.all.accept_redirects"))
            for dir in ["all", "default", "lo"] + FidelityGenerator.links {
                out.append(SysctlKey(components: ["net", "ipv4", "conf", dir, "forwarding"]))
                out.append(SysctlKey(components: ["net", "ipv6", "conf", dir, "forwarding"]))
            }
        }
        if c.last == "ip_local_port_range" || c.last == "ip_unprivileged_port_start" {
            out.append(try! SysctlKey("net.ipv4.ip_local_port_range"))
            out.append(try! SysctlKey("net.ipv4.ip_unprivileged_port_start"))
        }
        return out.filter { !$0.components.contains("br0") }
    }

    enum Result: Sendable, Hashable, CustomStringConvertible {
        case outcome(FidelityOutcome)
        case link(Bool)

        var description: String {
            switch self {
            case .outcome(let outcome): outcome.description
            case .link(let done): done ? "ok" : "failed"
            }
        }
    }

    /// Runs one step on one side and says how it ended, as a divergence
    /// prints it (`ok`, `EEXIST "ipv4: Address already assigned"`, ...).
    public static func apply<K: FidelityKernel>(_ step: FidelityStep, on side: K) async -> String {
        await perform(step, on: side).description
    }

    static func perform<K: FidelityKernel>(_ step: FidelityStep, on side: K) async -> Result {
        switch step {
        case .link(let change):
            return .link(await side.change(change))
        case .sysctl(let key, let value):
            do throws(KernelError) {
                try await side.backend.write(key, value: value, in: side.scope)
                return .outcome(.ok)
            } catch {
                return .outcome(.refused(error))
            }
        case .rtnl(let request):
            let links = (try? await side.backend.links(in: side.scope)) ?? []
            let resolved = resolve(request, links: links)
            let results = await side.backend.execute([resolved], in: side.scope, stopOnError: true)
            guard let result = results.first else { return .outcome(.refused(KernelError(.ioError, "no result"))) }
            switch result {
            case .success: return .outcome(.ok)
            case .failure(let error): return .outcome(.refused(error))
            }
        }
    }

    /// Outcomes match on errno and ext-ack text; a sysctl write's text is
    /// the backend's wording (procfs has no ext-ack), so only its errno.
    static func same(_ a: Result, _ b: Result, _ step: FidelityStep) -> Bool {
        guard case .sysctl = step, case .outcome(.refused(let x)) = a, case .outcome(.refused(let y)) = b else {
            return a == b
        }
        return x.errno == y.errno
    }

    /// The request with each link name turned into the side's ifindex (an
    /// unknown name gets one no link has, so the kernel answers ENODEV).
    static func resolve(_ request: RtnlRequest, links: [Link]) -> RtnlRequest {
        func index(_ name: String?) -> Int32? {
            guard let name else { return nil }
            return links.first { $0.name == name }?.index ?? 9999
        }
        func address(_ a: InterfaceAddress) -> InterfaceAddress {
            var a = a
            a.ifindex = index(a.interfaceName) ?? 9999
            a.interfaceName = nil
            return a
        }
        func route(_ r: Route) -> Route {
            var r = r
            r.ifindex = index(r.interfaceName)
            r.interfaceName = nil
            return r
        }
        switch request {
        case .addAddress(let a): return .addAddress(address(a))
        case .deleteAddress(let a): return .deleteAddress(address(a))
        case .addRoute(let r): return .addRoute(route(r))
        case .replaceRoute(let r): return .replaceRoute(route(r))
        case .deleteRoute(let r): return .deleteRoute(route(r))
        }
    }
}
