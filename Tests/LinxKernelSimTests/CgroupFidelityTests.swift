#if os(Linux)
import Foundation
import LinxKernelSim
import LinxReconcile
import SystemPackage
import Testing

/// Replays seeded random writes to the cgroup v2 core files this machine's
/// unified hierarchy offers (no memory, cpu, io or pids controller is
/// available to v2 here) on the simulator and on a throwaway child cgroup,
/// comparing errno and value after each write. Root only; the cgroup is
/// always removed.
/// The cgroup2 mount, if this process may create cgroups in it.
let cgroup2Mount: String? = {
        guard getuid() == 0 else { return nil }
        for path in ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"] where FileManager.default.fileExists(atPath: path + "/cgroup.max.depth") {
            return path
        }
    return nil
}()

@Suite("cgroup fidelity against the real kernel", .enabled(if: cgroup2Mount != nil, "needs root and a cgroup2 mount"))
struct CgroupFidelityTests {
    static let values = ["max", "0", "1", "2", "5", "-1", "abc", "0x10", "010", "+3", " 7 \n", "2147483647", "2147483648", "1 2", "max\n", "9999999999999999999999"]
    static let files = ["cgroup.max.depth", "cgroup.max.descendants", "cgroup.freeze"]

    /// Writes with open/write and returns "ok" or the errno name.
    static func write(_ path: String, _ value: String) -> String {
        let fd = open(path, O_WRONLY)
        guard fd >= 0 else { return KernelError(Errno(rawValue: errno)).errno.symbolicName }
        defer { close(fd) }
        let n = value.utf8CString.withUnsafeBufferPointer { Foundation.write(fd, $0.baseAddress, value.utf8.count) }
        return n < 0 ? KernelError(Errno(rawValue: errno)).errno.symbolicName : "ok"
    }

    @Test("random writes to core files: same errno, same values", arguments: [1, 2, 3] as [UInt64])
    func replay(seed: UInt64) async throws {
        let root = try #require(cgroup2Mount)
        // a crashed run never reached its defer: remove its (empty) cgroups
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where entry.hasPrefix("linx-simcg-") {
            if let pid = entry.split(separator: "-").dropFirst(2).first.flatMap({ Int32($0) }), kill(pid, 0) != 0, errno == ESRCH {
                _ = Self.write("\(root)/\(entry)/cgroup.freeze", "0")
                rmdir("\(root)/\(entry)")
            }
        }
        let real = "\(root)/linx-simcg-\(getpid())-\(seed)"
        try #require(mkdir(real, 0o755) == 0, "mkdir \(real)")
        defer { rmdir(real) }
        let sim = SimKernel(seed: seed)
        let cg = "/sys/fs/cgroup/linx-simcg"
        try sim.createCgroup(cg)
        var rng = SimRandom(seed: seed)
        for step in 0..<200 {
            let file = rng.pick(Self.files)
            let value = rng.pick(Self.values)
            let realResult = Self.write("\(real)/\(file)", value)
            var simResult = "ok"
            do throws(KernelError) { try await sim.write(file, value: value, in: cg) } catch { simResult = error.errno.symbolicName }
            #expect(simResult == realResult, "step \(step): \(file) = \(value.debugDescription)")
            for f in Self.files {
                let realValue = (try? String(contentsOfFile: "\(real)/\(f)", encoding: .utf8))?.trimmingCharacters(in: .newlines)
                #expect(sim.cgroupValue(f, in: cg) == realValue, "step \(step) after \(file) = \(value.debugDescription): \(f)")
            }
        }
        // leave it thawed so rmdir works
        _ = Self.write("\(real)/cgroup.freeze", "0")
    }
}
#endif
