import Foundation
import Glibc
import LinxLinux
import LinxReconcile
import LinxTestSupport
import Testing

/// The guards of issue 11 (findings 9 and 10) checked against the real
/// kernel: what the sysctl value rules accept the kernel stores as given,
/// what they refuse it cuts, reinterprets or refuses; a cgroup's
/// process-control files are never written. Throwaway namespaces and
/// cgroups only.
@Suite("ownership guards on the real kernel", .enabled(if: RealKernel.available, "needs root and iproute2"))
struct OwnershipGuardKernelTests {
    let kernel = LinuxKernel()

    /// (key, value, does the kernel store it as given?) as observed on 6.18.
    static let samples: [(key: String, value: String, storedAsGiven: Bool)] = [
        ("net.ipv4.ip_forward", "1", true),
        ("net.ipv4.ip_forward", "0 \n", true),
        ("net.ipv4.ip_forward", "\t1", true),
        ("net.ipv4.ip_forward", "1\n0", false),
        ("net.ipv4.ip_forward", "0\u{0}1", false),
        ("net.ipv4.ip_forward", "1\r", false),
        ("net.ipv4.ip_forward", "0x1", false),
        ("net.ipv4.ip_forward", "010", false),
        ("net.ipv4.ip_local_port_range", "32768 60999", true),
        ("net.ipv4.ip_local_port_range", "32000\t61000\n", true),
        ("net.ipv4.ip_local_port_range", "32000 0x1000", false),
        ("net.ipv4.tcp_congestion_control", "reno", true),
        ("net.ipv4.tcp_congestion_control", "reno\ncubic", false),
        ("net.ipv4.tcp_congestion_control", "reno\u{0}x", false),
    ]

    @Test("every sysctl value the rules accept is stored as given; the silent cuts they refuse really are cut")
    func sysctlRulesMatchTheKernel() async throws {
        try await ThrowawayNamespace.with { ns in
            for sample in Self.samples {
                let key = try SysctlKey(sample.key)
                // Start from a value different from the sample, so a write that changes nothing is seen.
                let start = sample.key == "net.ipv4.ip_forward" ? "0" : sample.key.hasSuffix("range") ? "20000 30000" : "bbr"
                try? await kernel.write(key, value: start, in: ns.scope)
                let wrote: Bool
                do {
                    try await kernel.write(key, value: sample.value, in: ns.scope)
                    wrote = true
                } catch {
                    wrote = false
                }
                let held = try await kernel.read(key, in: ns.scope)
                let stored = wrote && SysctlValue.normalized(held) == SysctlValue.normalized(sample.value)
                #expect(stored == sample.storedAsGiven, "\(sample.key) = \(String(reflecting: sample.value)): kernel holds \(String(reflecting: held)) (write \(wrote ? "accepted" : "refused"))")
                let accepted = SysctlValueRules.refusal(for: sample.value) == nil
                #expect(accepted == sample.storedAsGiven, "\(String(reflecting: sample.value)): rules \(accepted ? "accept" : "refuse") it")
            }
            // A single-integer key takes only the first of several fields: refused when planning.
            try await kernel.write(try SysctlKey("net.ipv4.ip_forward"), value: "1 0", in: ns.scope)
            #expect(try await kernel.read(try SysctlKey("net.ipv4.ip_forward"), in: ns.scope) == "1")
            #expect(SysctlValueRules.refusal(for: "1 0", observed: "1") != nil)
            #expect(SysctlValueRules.refusal(for: "1 0", observed: "32768\t60999") == nil)
        }
    }

    @Test("cgroup.procs and cgroup.freeze are refused: no process is moved, nothing is frozen")
    func cgroupControlFilesNeverWritten() async throws {
        try await ThrowawayCgroup.with { cgroup in
            let unified = try #require(cgroup.unified, "no cgroup v2 hierarchy here")
            // A process of our own to name, never PID 1.
            let child = try #require(Command.spawn(["sleep", "60"]))
            defer {
                kill(child, SIGKILL)
                Command.wait(child)
            }
            let home = try String(contentsOfFile: "/proc/\(child)/cgroup", encoding: .utf8)
            for desired: CgroupDesiredState in [["cgroup.procs": .integer(Int(child))], ["cgroup.freeze": 1], ["cgroup.kill": 1]] {
                let error = await #expect(throws: ReconcileError.self) {
                    try await CgroupReconciler(backend: kernel).reconcile(in: unified, desired: desired)
                }
                #expect(error?.description.contains("not a limit") == true, "\(String(describing: error))")
            }
            #expect(try String(contentsOfFile: "/proc/\(child)/cgroup", encoding: .utf8) == home)
            #expect(try await kernel.read("cgroup.procs", in: unified) == "")
            #expect(try await kernel.read("cgroup.freeze", in: unified) == "0")
        }
    }
}
