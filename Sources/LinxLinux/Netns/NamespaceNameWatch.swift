import CNetlink
import Glibc
import LinxReconcile
import SystemPackage

/// Wakes when what a namespace path names may have changed, without polling.
///
/// `ip netns del` unmounts the name and unlinks it; `ip netns add` creates
/// the file and then bind-mounts the namespace on it. So two sources are
/// watched, through one epoll fd that ``ReadinessPoller`` waits on:
/// inotify on the path's directory (create, delete, rename) and the mount
/// table (`/proc/self/mountinfo` signals POLLPRI on every mount or unmount:
/// the only sign of the bind mount that turns a plain file into a name).
/// A wake-up is a hint to look again; the caller re-reads the identity.
final class NamespaceNameWatch: Sendable {
    private let epoll: Int32
    private let inotify: Int32
    private let mounts: Int32

    /// Watches `path`. Throws when neither source can be watched.
    init(path: String) throws(KernelError) {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw KernelError(Errno(rawValue: linx_errno()), "epoll_create1 for a namespace name watch") }
        inotify = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        mounts = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)
        var watched = false
        if inotify >= 0 {
            let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
            let mask = UInt32(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)
            // The directory may not exist yet (no namespace was ever named):
            // then its creation is a mount, which the mount table reports.
            if inotify_add_watch(inotify, directory, mask) >= 0 {
                watched = add(inotify, events: EPOLLIN.rawValue) || watched
            }
        }
        if mounts >= 0 { watched = add(mounts, events: EPOLLPRI.rawValue) || watched }
        guard watched else {
            let error = KernelError(Errno(rawValue: linx_errno()), "cannot watch \(path) for namespace changes")
            closeAll()
            throw error
        }
    }

    private func add(_ fd: Int32, events: UInt32) -> Bool {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        return epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0
    }

    deinit { closeAll() }

    private func closeAll() {
        if inotify >= 0 { close(inotify) }
        if mounts >= 0 { close(mounts) }
        if epoll >= 0 { close(epoll) }
    }

    /// Suspends until something changed; false when the task was cancelled.
    func changed() async -> Bool {
        guard await ReadinessPoller.shared.waitReadable(epoll) else { return false }
        drain()
        return true
    }

    /// Consumes what woke us, so the next wait sleeps until the next change.
    /// The mount table's POLLPRI is consumed by being polled.
    private func drain() {
        var events = [epoll_event](repeating: epoll_event(), count: 4)
        _ = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, Int32($0.count), 0) }
        guard inotify >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while buffer.withUnsafeMutableBytes({ read(inotify, $0.baseAddress, $0.count) }) > 0 {}
    }
}

extension NamespaceIdentity {
    /// nsfs's magic (statfs f_type): only such a file names a namespace.
    static let nsfsMagic = 0x6E73_6673

    /// The identity of the namespace file `info` was read from.
    package init(_ info: stat) {
        self.init(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// The namespace `path` names now: nil when the path is missing or is
    /// not a namespace file (a name being created, before its bind mount).
    package static func named(by path: String) -> NamespaceIdentity? {
        var info = stat()
        guard stat(path, &info) == 0, linx_fs_type(path) == nsfsMagic else { return nil }
        return NamespaceIdentity(info)
    }
}
