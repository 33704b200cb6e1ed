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
