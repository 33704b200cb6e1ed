import Foundation
import LinxReconcile
import Testing

/// `/proc/PID/ns/net` as a path names a process, so it is the pid scope.
@Suite("NetnsScope: a process's namespace however it is spelled")
struct NetnsScopeTests {
    @Test("/proc/PID/ns/net is .pid(PID): equal, same hash, same process")
    func processPathIsThePidScope() {
        let path = NetnsScope.path("/proc/4242/ns/net")
        #expect(path.process == 4242)
        #expect(path == .pid(4242))
        #expect(NetnsScope.pid(4242) == path)
        #expect(path.hashValue == NetnsScope.pid(4242).hashValue)
        #expect(Set([path, .pid(4242)]).count == 1)
        #expect(path != .pid(4243))
        #expect(NetnsScope.pid(7).process == 7)
    }

    @Test("other paths are files, compared as written", arguments: [
        "/proc/self/ns/net", "/proc/thread-self/ns/net", "/proc/0042/ns/net", "/proc/42/ns/net/",
        "/proc/42/task/42/ns/net", "/proc//ns/net", "/proc/99999999999/ns/net", "/proc/42/ns/mnt",
        "/run/netns/pod", "proc/42/ns/net",
    ])
    func otherPaths(_ text: String) {
        let scope = NetnsScope.path(text)
        #expect(scope.process == nil)
        #expect(scope == .path(text))
        #expect(scope != .pid(42))
        #expect(scope != .current)
    }

    @Test("the current namespace is no process and equals only itself")
    func current() {
        #expect(NetnsScope.current.process == nil)
        #expect(NetnsScope.current == .current)
        #expect(NetnsScope.current != .path("/proc/self/ns/net"))
        #expect(NetnsScope.named("a") != .named("b"))
    }

    @Test("Codable keeps the spelling")
    func codable() throws {
        let path = NetnsScope.path("/proc/4242/ns/net")
        let decoded = try JSONDecoder().decode(NetnsScope.self, from: JSONEncoder().encode(path))
        guard case .path("/proc/4242/ns/net") = decoded else {
            Issue.record("decoded as \(decoded)")
            return
        }
    }
}
