#if os(Linux)
import Foundation
import LinxKernelSim
import LinxReconcile
import Testing

/// The two sysctls the kernel checks against each other
/// (`ipv4_local_port_range` and `ipv4_privileged_ports`): a scripted write
/// sequence that crosses the boundary both ways runs on the simulator and,
/// through Python inside a throwaway namespace, on the real kernel; the
/// errno of each write and both values afterwards must match. The random
/// fidelity replay rarely draws this pair in a telling order, and missing the
/// second check let a desired state no kernel can hold look convergent.
@Suite("port-range coupling against the real kernel", .enabled(if: RealKernel.available, "needs root and iproute2 (ip)"))
struct PortRangeFidelityTests {
    static let range = "net/ipv4/ip_local_port_range"
    static let start = "net/ipv4/ip_unprivileged_port_start"
    static let writes: [(String, String)] = [
        (range, "1046 23567"), (start, "1417"), (start, "1046"), (range, "1045 23567"), (start, "0"),
        (range, "3630 18842"), (start, "1417"), (range, "1046 23567"), (start, "3631"), (start, "3630"),
        (range, "3630 3630"), (start, "1024"), (range, "1024 60999"),
    ]

    @Test("same errno and values after every write")
    func scripted() async throws {
        RealKernel.reapStale(prefix: "linx-simport")
        let name = "linx-simport-\(getpid())"
        try RealKernel.ip("netns", "add", name)
        defer { _ = try? RealKernel.ip("netns", "del", name) }
        let script = """
            import os, sys, errno, json
            for key, value in json.loads(sys.argv[1]):
                try:
                    fd = os.open("/proc/sys/" + key, os.O_WRONLY)
                    try: os.write(fd, value.encode()); result = "ok"
                    except OSError as e: result = errno.errorcode[e.errno]
                    finally: os.close(fd)
                except OSError as e: result = errno.errorcode[e.errno]
                values = [open("/proc/sys/" + k).read().rstrip("\\n") for k in (sys.argv[2], sys.argv[3])]
                print(json.dumps([result] + values))
            """
        let encoded = String(decoding: try JSONEncoder().encode(Self.writes.map { [$0.0, $0.1] }), as: UTF8.self)
        let output = try RealKernel.ip("netns", "exec", name, "python3", "-c", script, encoded, Self.range, Self.start)
        let lines = output.split(separator: "\n")
        try #require(lines.count == Self.writes.count, "python helper: \(output.prefix(500))")
        let sim = SimKernel()
        let scope = NetnsScope.named(name)
        try sim.createNamespace(scope)
        for (step, (key, value)) in Self.writes.enumerated() {
            let real = try JSONDecoder().decode([String].self, from: Data(lines[step].utf8))
            let simKey = SysctlKey(components: key.split(separator: "/").map(String.init))
            let simResult: String
            do throws(KernelError) {
                try await sim.write(simKey, value: value, in: scope)
                simResult = "ok"
            } catch {
                simResult = error.errno.symbolicName
            }
            let simValues = [Self.range, Self.start].map { sim.sysctlValue($0.replacingOccurrences(of: "/", with: "."), in: scope) ?? "-" }
            #expect([simResult] + simValues == real, "step \(step): write \(key) = \(value)")
        }
    }
}
#endif
