import Foundation
import Glibc
import LinxLinux
import LinxTestSupport
import Testing

/// The README's agent, run as a process: its ServiceGroup (two loops and an
/// events consumer) shuts down cleanly on SIGTERM.
@Suite("NodeAgent example")
struct NodeAgentExampleTests {
    static let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("NodeAgentExample")

    /// Waits until `condition` holds or `duration` passes, checking often.
    static func poll(for duration: Duration, _ condition: () -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + duration
        while clock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test("SIGTERM with the events consumer running: the group shuts down cleanly, exit 0")
    func sigterm() async throws {
        let agent = try #require(Command.start([Self.executable.path]))
        // The consumer logs each loop's first report: the group is up.
        let up = await Self.poll(for: .seconds(20)) {
            agent.stderr.contains("pod-network: converged=true") && agent.stderr.contains("pod-sysctls: converged=true")
        }
        agent.signal(SIGTERM)
        let output = agent.wait()
        #expect(up, "the agent never reported both loops converged:\n\(output.stderr)")
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stderr.contains("event log stopped"))
        #expect(output.stderr.contains("node agent stopped"))
        #expect(!output.stderr.contains("serviceFinishedUnexpectedly"))
    }
}
