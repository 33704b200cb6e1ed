import Glibc
import LinxReconcile
import Synchronization

/// A network namespace made for one test and always removed afterwards.
///
/// Names are `linx-test-<pid>-<n>`, so leftovers of a crashed run are
/// recognisable: ``sweepLeftovers()`` (run before every creation) deletes
/// those whose process is gone, and never touches another live run's.
/// Created with `ip`, like an operator would, with loopback up and a veth
/// pair `v0`/`v1` (both up) plus an empty bridge `br0` by default, and IPv6
/// duplicate address detection off.
public struct ThrowawayNamespace: Sendable {
    /// The prefix every throwaway namespace name starts with.
    public static let prefix = "linx-test-"

    /// The links a namespace is created with.
    public enum LinkSpec: Sendable, Hashable {
        /// A veth pair, both ends in the namespace and up.
        case veth(String, peer: String)
        /// A bridge, up.
        case bridge(String)
    }

    /// A veth pair `v0`/`v1` and a bridge `br0`, all up.
    public static let defaultLinks: [LinkSpec] = [.veth("v0", peer: "v1"), .bridge("br0")]

    /// The name under /run/netns.
    public let name: String

    /// The scope to hand to a backend.
    public var scope: NetnsScope { .named(name) }

    private static let counter = Mutex(0)

    /// Creates the namespace and its links; on any failure removes what it made.
    public static func create(links: [LinkSpec] = defaultLinks) throws(Command.Failure) -> ThrowawayNamespace {
        sweepLeftovers()
        let serial = counter.withLock { counter in
            counter += 1
            return counter
        }
        let namespace = ThrowawayNamespace(name: "\(prefix)\(getpid())-\(serial)")
        try Command.check(["ip", "netns", "add", namespace.name])
        do {
            // No duplicate address detection: a new IPv6 address is tentative
            // only until the kernel's address work runs (see
            // settledAddresses()), not for a second or more.
            try namespace.exec("sh", "-c", "echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad; echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad")
            try namespace.ip("link", "set", "lo", "up")
            for link in links {
                switch link {
                case .veth(let name, let peer):
                    try namespace.ip("link", "add", name, "type", "veth", "peer", "name", peer)
                    try namespace.ip("link", "set", name, "up")
                    try namespace.ip("link", "set", peer, "up")
                case .bridge(let name):
                    try namespace.ip("link", "add", name, "type", "bridge")
                    try namespace.ip("link", "set", name, "up")
                }
            }
        } catch {
            namespace.remove()
            throw error
        }
        return namespace
    }

    /// Runs `body` with a fresh namespace and removes it afterwards, whether
    /// `body` returned or threw.
    public static func with<T>(
        links: [LinkSpec] = defaultLinks, _ body: (ThrowawayNamespace) async throws -> T
    ) async throws -> T {
        let namespace = try create(links: links)
        defer { namespace.remove() }
        return try await body(namespace)
    }

    /// Runs `ip -n NAME ARGS...` and returns its stdout.
    @discardableResult
    public func ip(_ arguments: String...) throws(Command.Failure) -> String {
        try Command.check(["ip", "-n", name] + arguments)
    }

    /// Runs a program inside the namespace (`ip netns exec NAME ...`) and
    /// returns its stdout.
    @discardableResult
    public func exec(_ arguments: String...) throws(Command.Failure) -> String {
        try Command.check(["ip", "netns", "exec", name] + arguments)
    }

    /// Reads a sysctl as the namespace sees it (`cat /proc/sys/...` inside it),
    /// trailing newline removed.
    public func sysctl(_ dotted: String) throws(Command.Failure) -> String {
        var text = try exec("cat", "/proc/sys/" + dotted.replacingDots())
        while text.last == "\n" { text.removeLast() }
        return text
    }

    /// Writes a sysctl inside the namespace, as an operator's `sysctl -w` would.
    public func setSysctl(_ dotted: String, _ value: String) throws(Command.Failure) {
        try exec("sh", "-c", "echo '\(value)' > /proc/sys/\(dotted.replacingDots())")
    }

    /// `ip -j addr` once no IPv6 address is tentative (or after `timeout`).
    ///
    /// Even with duplicate address detection off, the kernel clears an
    /// address's tentative flag in deferred work, so on a busy machine a
    /// snapshot taken right after an add can still show it. Tests comparing
    /// snapshots take them settled.
    public func settledAddresses(timeout: Duration = .seconds(2)) throws(Command.Failure) -> String {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let text = try ip("-j", "addr")
            if !text.contains("\"tentative\"") || clock.now >= deadline { return text }
            usleep(2000)
        }
    }

    /// Runs `ip -n NAME -batch -` with `commands`, one per line.
    public func batch(_ commands: [String]) throws(Command.Failure) {
        try Command.check(["ip", "-n", name, "-batch", "-"], input: commands.joined(separator: "\n") + "\n")
    }

    /// The ifindex of `link` in this namespace.
    public func index(of link: String) throws(Command.Failure) -> Int32 {
        let text = try ip("-o", "link", "show", "dev", link)
        return Int32(text.prefix { $0 != ":" }) ?? -1
    }

    /// Deletes the namespace (its links go with it).
    public func remove() {
        _ = Command.run(["ip", "netns", "del", name])
    }

    /// Names of every throwaway namespace currently present.
    public static func existing() -> [String] {
        Command.run(["ip", "netns", "list"]).stdout.split(separator: "\n")
            .compactMap { $0.split(separator: " ").first.map(String.init) }
            .filter { $0.hasPrefix(prefix) }
    }

    /// Deletes leftovers of runs whose process no longer exists.
    public static func sweepLeftovers() {
        for name in existing() where !ThrowawayNames.ownerIsAlive(name, prefix: prefix) {
            _ = Command.run(["ip", "netns", "del", name])
        }
    }
}

extension String {
    /// `net.ipv4.ip_forward` as a path below /proc/sys (no dotted interface names).
    fileprivate func replacingDots() -> String { String(map { $0 == "." ? "/" : $0 }) }
}

/// Parsing of `<prefix><pid>-<n>` names shared by the throwaway helpers.
enum ThrowawayNames {
    /// True when the name's pid is a live process (or the name is not ours to judge).
    static func ownerIsAlive(_ name: String, prefix: String) -> Bool {
        let rest = name.dropFirst(prefix.count)
        guard let pid = Int32(rest.prefix { $0 != "-" }) else { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
