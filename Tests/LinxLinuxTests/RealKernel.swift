import Glibc
import LinxLinux
import LinxReconcile
import LinxTestSupport
import SystemPackage
import Testing

/// Gate for the real-kernel tests: they need root (to create namespaces and
/// cgroups) and `ip`. When either is missing they are skipped, and the reason
/// is printed once.
enum RealKernel {
    static let available: Bool = {
        if let reason = unavailableReason {
            print("LinxLinuxTests: skipping real-kernel tests: \(reason)")
            return false
        }
        return true
    }()

    static var unavailableReason: String? {
        if geteuid() != 0 { return "not root (they create network namespaces and cgroups)" }
        if Command.run(["ip", "-V"]).status != 0 { return "iproute2's `ip` is not installed" }
        return nil
    }

    /// Waits until `condition` holds or `deadline` passes, checking often;
    /// returns whether it held. For kernel effects that land asynchronously.
    static func poll(
        for duration: Duration, _ condition: () async throws -> Bool
    ) async rethrows -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + duration
        while clock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return try await condition()
    }
}

/// Shorthands for values tests write a lot.
func prefix(_ text: String) -> IPPrefix { try! IPPrefix(text) }
func address(_ text: String) -> IPAddress { try! IPAddress(text) }

/// The errno of a failed result, nil for success.
func errno(of result: Result<Void, KernelError>?) -> Errno? {
    guard case .failure(let error) = result else { return nil }
    return error.errno
}

/// The host's own value of a sysctl, read by this (never moved) thread.
func hostSysctl(_ path: String) -> String {
    Command.run(["cat", "/proc/sys/" + path]).stdout.trimmingSuffix()
}

extension String {
    func trimmingSuffix() -> String {
        var text = self
        while text.last == "\n" || text.last == " " { text.removeLast() }
        return text
    }
}
