import Glibc

/// Time a task spent runnable but waiting for a CPU (the scheduler's
/// `run_delay`, the second field of `/proc/PID/task/TID/schedstat`, in
/// nanoseconds), per thread of process `pid`: what other processes' load
/// adds to a run's wall time. Together with the CPU time it splits a run's
/// wall time into running, waiting for a CPU, and the rest: sleeping
/// (a hand-off to another thread, I/O, a kernel wait such as RCU), which is
/// what a run would still wait on an idle machine.
func runQueueNanoseconds(ofThreadsOf pid: pid_t) -> [Int: UInt64] {
    var delays: [Int: UInt64] = [:]
    guard let directory = opendir("/proc/\(pid)/task") else { return delays }
    defer { closedir(directory) }
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard let tid = Int(name), let delay = runQueueNanoseconds(path: "/proc/\(pid)/task/\(tid)/schedstat") else { continue }
        delays[tid] = delay
    }
    return delays
}

/// The `run_delay` field of one schedstat file (nil when unreadable).
func runQueueNanoseconds(path: String) -> UInt64? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 128)
    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard count > 0 else { return nil }
    let fields = buffer.prefix(count).split(separator: UInt8(ascii: " "))
    guard fields.count >= 2 else { return nil }
    return UInt64(String(decoding: fields[1], as: UTF8.self))
}

/// The run-queue wait of this process's threads between two readings
/// (threads that ended in between are not counted; new ones from zero).
func runQueueSeconds(from before: [Int: UInt64], to after: [Int: UInt64]) -> Double {
    let nanoseconds = after.reduce(UInt64(0)) { sum, thread in
        let earlier = before[thread.key] ?? 0
        return sum + (thread.value >= earlier ? thread.value - earlier : 0)
    }
    return Double(nanoseconds) / 1e9
}
