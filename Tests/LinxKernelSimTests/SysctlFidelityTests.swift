#if os(Linux)
import Foundation
import LinxKernelSim
import LinxReconcile
import Testing

/// Replays seeded random sysctl writes (well-formed and malformed) on the
/// simulator and, through a Python helper inside a throwaway namespace, on
/// the real kernel; after each write compares the errno and every `net.` key
/// the simulator knows. Root only. Machine-wide keys are never written (on
/// the real kernel they would change the host).
@Suite("sysctl fidelity against the real kernel", .enabled(if: RealKernel.available, "needs root and iproute2 (ip)"))
struct SysctlFidelityTests {
    static let values = [
        "0", "1", "2", "3", "5", "-1", "abc", "5abc", "+4", "0x10", "010", " 7 \n", "", "\n", "1 2", "99999999999",
        "2147483647", "2147483648", "-2147483648", "2000 3000", "3000 2000", "1000 2000", "2500", "1024 65535",
        "1024 65536", "64", "255", "256", "0 2147483647", "5 1",
    ]

    /// Seeds 1...2 by default; LINX_FIDELITY_SEEDS=N runs seeds 1...N.
    static let seeds: [UInt64] = Array(1...UInt64(ProcessInfo.processInfo.environment["LINX_FIDELITY_SEEDS"].flatMap(UInt64.init) ?? 2))

    static func write(_ sim: SimKernel, _ key: SysctlKey, _ value: String, _ scope: NetnsScope) async -> String {
        do throws(KernelError) {
            try await sim.write(key, value: value, in: scope)
            return "ok"
        } catch {
            return error.errno.symbolicName
        }
    }

    @Test("random writes: same errno, same values afterwards", arguments: seeds)
    func replay(seed: UInt64) async throws {
        RealKernel.reapStale(prefix: "linx-simsys")
        let name = "linx-simsys-\(getpid())-\(seed)"
        try RealKernel.ip("netns", "add", name)
        defer { _ = try? RealKernel.ip("netns", "del", name) }
        try RealKernel.ip("-n", name, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
        let sim = SimKernel(seed: seed)
        let scope = NetnsScope.named(name)
        try sim.createNamespace(scope)
        try sim.addVethPair("v0", "v1", up: false, in: scope)
        // The keys whose handlers the simulator models in full (LinxFidelity's
        // FidelityCheck.modelled has the same list); the values compared are every net. key.
        let modelledLeaves: Set<String> = [
            "forwarding", "rp_filter", "accept_redirects", "send_redirects", "secure_redirects", "proxy_arp", "arp_ignore",
            "arp_announce", "log_martians", "accept_source_route", "promote_secondaries", "mc_forwarding", "disable_ipv6",
            "accept_ra", "autoconf", "hop_limit", "keep_addr_on_down", "dad_transmits",
        ]
        let modelledKeys: Set<String> = [
            "net/ipv4/ip_forward", "net/ipv4/ip_local_port_range", "net/ipv4/ip_unprivileged_port_start",
            "net/ipv4/ping_group_range", "net/ipv4/ip_default_ttl", "net/ipv4/ip_nonlocal_bind", "net/ipv4/tcp_syncookies",
            "net/ipv4/tcp_fin_timeout", "net/ipv4/tcp_keepalive_time", "net/ipv4/icmp_echo_ignore_all", "net/core/somaxconn",
            "net/unix/max_dgram_qlen",
        ]
        let allKeys = try await sim.keys(under: try SysctlKey("net"), in: scope).map(\.path)
        let keys = allKeys.filter { path in
            let c = path.split(separator: "/")
            if c.count == 5, c[2] == "conf" { return modelledLeaves.contains(String(c[4])) }
            return modelledKeys.contains(path)
        }
        // Random per link on the kernel, or the host's (its history, not this namespace's): left out.
        let machineWide = Set(SimKernel.machineWideSysctls.map(\.path))
        let compared = allKeys.filter { !$0.hasSuffix("/stable_secret") && !machineWide.contains($0) }
        var rng = SimRandom(seed: seed)
        var writes: [(String, String)] = []
        for _ in 0..<120 { writes.append((rng.pick(keys), rng.pick(Self.values))) }
        // One Python process does every write and prints, per write, the errno and then every key.
        let script = """
            import os, sys, errno, json
            writes = json.loads(sys.argv[1]); keys = json.loads(sys.argv[2])
            for key, value in writes:
                path = "/proc/sys/" + key
                try:
                    fd = os.open(path, os.O_WRONLY)
                    try:
                        os.write(fd, (value or "\\n").encode())  # as the backends send an empty value
                        result = "ok"
                    except OSError as e: result = errno.errorcode[e.errno]
                    finally: os.close(fd)
                except OSError as e: result = errno.errorcode[e.errno]
                values = {}
                for k in keys:
                    try: values[k] = open("/proc/sys/" + k).read().rstrip("\\n")
                    except OSError as e: values[k] = errno.errorcode[e.errno]
                print(json.dumps([result, values]))
            """
        let arguments = [String(decoding: try JSONEncoder().encode(writes.map { [$0.0, $0.1] }), as: UTF8.self),
                         String(decoding: try JSONEncoder().encode(compared), as: UTF8.self)]
        let output = try RealKernel.ip(["netns", "exec", name, "python3", "-c", script] + arguments)
        let lines = output.split(separator: "\n")
        try #require(lines.count == writes.count, "python helper: \(output.prefix(500))")
        for step in 0..<writes.count {
            let (key, value) = writes[step]
            let line = lines[step]
            let decoded = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [Any]
            let realResult = decoded[0] as! String
            let realValues = decoded[1] as! [String: String]
            let simKey = SysctlKey(components: key.split(separator: "/").map(String.init))
            let simResult = await Self.write(sim, simKey, value, scope)
            #expect(simResult == realResult, "step \(step): write \(key) = \(value.debugDescription)")
            var differences: [String] = []
            for k in compared {
                let simKey = SysctlKey(components: k.split(separator: "/").map(String.init))
                let simValue: String
                do throws(KernelError) { simValue = try await sim.read(simKey, in: scope) } catch { simValue = error.errno.symbolicName }
                if simValue != realValues[k] { differences.append("\(k): real \(realValues[k] ?? "-") sim \(simValue)") }
            }
            #expect(differences.isEmpty, "step \(step): after write \(key) = \(value.debugDescription): \(differences)")
            if simResult != realResult || !differences.isEmpty { break }
        }
    }
}
#endif
