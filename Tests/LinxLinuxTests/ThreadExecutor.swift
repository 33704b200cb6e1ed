import Glibc
import Synchronization

/// A task executor with one OS thread of its own.
///
/// Test support runs `ip` synchronously (posix_spawn + waitpid), which parks
/// a thread of the global concurrency pool; with tests running in parallel on
/// two cores the whole pool can be parked for a while. A task that timestamps
/// monitor events runs here instead, so what it measures is the monitor's
/// latency, not the pool's.
final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let jobs = Mutex<[UnownedJob]>([])
    private let signal: UnsafeMutablePointer<sem_t>

    init() {
        signal = .allocate(capacity: 1)
        sem_init(signal, 0, 0)
        var thread = pthread_t()
        pthread_create(&thread, nil, { raw in
            Unmanaged<ThreadExecutor>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, Unmanaged.passRetained(self).toOpaque())
        pthread_detach(thread)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        jobs.withLock { $0.append(unowned) }
        sem_post(signal)
    }

    /// Runs jobs forever: one executor per test process is enough.
    private func run() {
        while true {
            while sem_wait(signal) != 0 {}
            guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }

    /// The process-wide instance.
    static let shared = ThreadExecutor()
}
