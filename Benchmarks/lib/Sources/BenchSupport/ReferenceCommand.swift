import Glibc

/// Runs a reference tool (`ip -batch`, `nft -f`) the way the scripts did
/// from the shell, its output discarded, and times it from spawn to exit,
/// so a driver can interleave the reference with the Linx pass it is
/// compared with: both then see the same machine load.
///
/// - Returns: the wall-clock seconds; fails the run when the tool exits
///   non-zero.
public func timeReference(_ arguments: [String], clock: ContinuousClock = ContinuousClock()) -> Double {
    let start = clock.now
    let status = runReference(arguments)
    let elapsed = seconds(start.duration(to: clock.now))
    if status != 0 { fail("\(arguments.joined(separator: " ")) exited with status \(status)") }
    return elapsed
}

/// Runs `arguments` (looked up in PATH), stdout and stderr to /dev/null,
/// and returns its exit status (128 + signal when killed).
public func runReference(_ arguments: [String]) -> Int32 {
    let pid = spawnReference(arguments)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        guard errno == EINTR else { fail("waitpid failed: errno \(errno)") }
    }
    return exitStatus(status)
}

/// Starts `arguments` inside the network namespace file `netns` (or this
/// process's own namespace when nil), and the instant it was started.
///
/// A namespace is entered per thread (`setns`) and a child starts in its
/// parent thread's namespaces, so the tool is spawned from a short-lived
/// thread that entered `netns` first: no Swift concurrency thread changes
/// namespace, and the tool pays nothing for getting there (`ip netns exec`
/// also makes a mount namespace and remounts /sys: 2-5 ms a run here).
func spawnReference(_ arguments: [String], netns: String?, clock: ContinuousClock) -> (pid: pid_t, start: ContinuousClock.Instant) {
    guard let netns else { return (spawnReference(arguments), clock.now) }
    let fd = open(netns, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { fail("cannot open \(netns): errno \(errno)") }
    defer { close(fd) }
    final class Spawn: @unchecked Sendable {
        let arguments: [String], fd: Int32, clock: ContinuousClock
        var pid: pid_t = 0, start: ContinuousClock.Instant, entered: Int32 = 0
        init(_ arguments: [String], _ fd: Int32, _ clock: ContinuousClock) {
            (self.arguments, self.fd, self.clock, start) = (arguments, fd, clock, clock.now)
        }
    }
    let spawn = Spawn(arguments, fd, clock)
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { raw in
        let spawn = Unmanaged<Spawn>.fromOpaque(raw!).takeUnretainedValue()
        spawn.entered = enterNetworkNamespace(spawn.fd) == 0 ? 0 : errno
        if spawn.entered == 0 {
            spawn.start = spawn.clock.now
            spawn.pid = spawnReference(spawn.arguments)
        }
        return nil
    }, Unmanaged.passUnretained(spawn).toOpaque())
    guard rc == 0 else { fail("cannot start a thread to spawn \(arguments[0]): errno \(rc)") }
    pthread_join(thread, nil)
    guard spawn.entered == 0 else { fail("cannot enter \(netns): errno \(spawn.entered)") }
    return (spawn.pid, spawn.start)
}

/// `setns(fd, CLONE_NEWNET)` for the calling thread. Glibc's module does not
/// import `setns` (it is a _GNU_SOURCE declaration), so it is looked up.
private func enterNetworkNamespace(_ fd: Int32) -> Int32 {
    typealias SetNs = @convention(c) (Int32, Int32) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else { return -1 }
    return unsafeBitCast(symbol, to: SetNs.self)(fd, 0x4000_0000 /* CLONE_NEWNET */)
}

/// Starts `arguments` (looked up in PATH), stdout and stderr to /dev/null.
func spawnReference(_ arguments: [String]) -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid = pid_t()
    let rc = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
    guard rc == 0 else { fail("cannot start \(arguments[0]): errno \(rc)") }
    return pid
}

/// The exit status of a `waitpid` status word (128 + signal when killed):
/// WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import.
func exitStatus(_ status: Int32) -> Int32 {
    status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}
