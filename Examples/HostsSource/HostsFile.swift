import LinxConformance
import Synchronization

/// A simulated `/etc/hosts`-like store: host name -> address, shared by the
/// Source and any other writer. It stands in for "a subsystem Linx does not
/// cover"; a real one would be a file, a DNS zone, a key-value service.
///
/// The faulted API (`read`, `set`, `remove`) is what a Source uses and can be
/// made to fail transiently; the `direct*` API is the independent view a
/// conformance subject reads and writes through, never faulted.
public final class HostsFile: Sendable {
    /// One change, as the store's watchers see it.
    public enum Change: Sendable, Hashable {
        case set(name: String, address: String)
        case removed(name: String)
        /// The watcher fell behind and changes were lost.
        case overflow
    }

    private struct State {
        var entries: [String: String]
        var faultRate = 0.0
        var faultsFired = 0
        var random = SimRandom(seed: 0)
        var watchers: [Int: AsyncThrowingStream<Change, any Error>.Continuation] = [:]
        var nextWatcher = 0
        var writes = 0
    }

    private let state: Mutex<State>

    /// A store holding `entries` (the "boot" contents).
    public init(entries: [String: String] = ["localhost": "127.0.0.1"]) {
        state = Mutex(State(entries: entries))
    }

    // MARK: The API a Source uses (faults apply)

    /// Every entry. Fails transiently under injected faults.
    public func read() throws(KernelError) -> [String: String] {
        try state.withLock { state throws(KernelError) in
            try Self.maybeFail(&state)
            return state.entries
        }
    }

    /// Writes one entry. Fails transiently under injected faults.
    public func set(_ name: String, to address: String) throws(KernelError) {
        try state.withLock { state throws(KernelError) in
            try Self.maybeFail(&state)
            Self.write(&state, name: name, address: address)
        }
    }

    /// Removes one entry: ENOENT when absent. Fails transiently under injected faults.
    public func remove(_ name: String) throws(KernelError) {
        try state.withLock { state throws(KernelError) in
            try Self.maybeFail(&state)
            guard state.entries[name] != nil else { throw KernelError(.noSuchFileOrDirectory, "no entry \(name)") }
            Self.write(&state, name: name, address: nil)
        }
    }

    /// A stream of changes; cancelling its iteration stops it.
    public func changes() -> AsyncThrowingStream<Change, any Error> {
        let (stream, continuation) = AsyncThrowingStream<Change, any Error>.makeStream()
        let id = state.withLock { state in
            state.nextWatcher += 1
            state.watchers[state.nextWatcher] = continuation
            return state.nextWatcher
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }

    // MARK: The independent view (never faulted)

    /// Every entry, read directly.
    public var directContents: [String: String] { state.withLock { $0.entries } }

    /// How many writes the store has taken, from anyone, even writes of the
    /// value already there: its journal, as a file's mtime would be.
    public var writeCount: Int { state.withLock { $0.writes } }

    /// Writes (or with nil, removes) an entry directly, as a foreign writer would.
    public func directWrite(_ name: String, _ address: String?) {
        state.withLock { Self.write(&$0, name: name, address: address) }
    }

    // MARK: Fault injection

    /// From now on each faulted call fails with probability `rate` (EIO,
    /// EAGAIN or EBUSY), decided by a stream seeded with `seed`.
    public func injectFaults(rate: Double, seed: UInt64) {
        state.withLock {
            $0.faultRate = rate
            $0.random = SimRandom(seed: seed)
        }
    }

    /// Ends injected faults.
    public func stopFaults() {
        state.withLock { $0.faultRate = 0 }
    }

    /// Injected faults that fired so far (fuzzing proves its faults bit).
    public var faultsFired: Int { state.withLock { $0.faultsFired } }

    /// Tells every watcher that it lost changes.
    public func overflowWatchers() {
        state.withLock { state in
            for watcher in state.watchers.values { watcher.yield(.overflow) }
        }
    }

    private static func maybeFail(_ state: inout State) throws(KernelError) {
        guard state.faultRate > 0, state.random.chance(state.faultRate) else { return }
        let errno = state.random.pick([Errno.ioError, .resourceTemporarilyUnavailable, .resourceBusy])
        state.faultsFired += 1
        throw KernelError(errno, "injected fault")
    }

    private static func write(_ state: inout State, name: String, address: String?) {
        state.writes += 1
        state.entries[name] = address
        let change: Change = address.map { .set(name: name, address: $0) } ?? .removed(name: name)
        for watcher in state.watchers.values { watcher.yield(change) }
    }
}
