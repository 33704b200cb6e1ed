import Foundation

/// An exclusive advisory lock (flock) on a file `linx apply` reads, changes
/// and writes back (a state file, a `--sim-state` host), held from before the
/// first read until the command exits.
///
/// Without it, two applies on one state file each read the same ownership,
/// each install their own objects, and the last to write records only its
/// own: the other's objects are never released (a leak). A second apply does
/// not wait: an `apply --watch` holds the lock until it is stopped, so
/// waiting could mean waiting forever, and an operator who started two
/// applies at once wants to know. It fails at once, naming the holder.
///
/// The lock is taken on `FILE.lock`, not on the file itself, because the
/// file is replaced by rename on every write (a lock on the old inode would
/// not exclude a process that opened the new one). The lock file is never
/// removed: unlinking a lock file lets a third process lock a new inode
/// while the second still holds the old one.
final class StateLock: Sendable {
    private let fd: Int32
    /// The lock file's path.
    let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// Locks `file` (through `file.lock`) or throws, naming the pid that holds it.
    /// `what` names the file in messages ("state file").
    static func acquire(_ file: String, what: String) throws(CommandError) -> StateLock {
        let path = file + ".lock"
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        // O_NOFOLLOW: the pid is written into it, and root must never write
        // through a symlink someone planted.
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0o600)
        guard fd >= 0 else {
            throw CommandError("cannot lock \(what) \(file): cannot open \(path) (\(String(cString: strerror(errno))))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw CommandError("cannot lock \(what) \(file): \(path) is not a regular file")
        }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let code = errno
            let holder = Self.holder(fd)
            close(fd)
            guard code == EWOULDBLOCK else {
                throw CommandError("cannot lock \(what) \(file): \(String(cString: strerror(code)))")
            }
            throw CommandError(
                "\(what) \(file) is in use by another linx apply\(holder.map { " (pid \($0))" } ?? "") "
                    + "holding \(path): wait for it to finish, or stop it (an apply --watch holds it until it exits)")
        }
        // Who holds it, for the message a second apply prints.
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return StateLock(fd: fd, path: path)
    }

    private static func holder(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<count], as: UTF8.self).filter(\.isNumber))
    }

    /// Releases the lock (closing the descriptor does). Calling it marks the
    /// end of the lock's use, so the lock lives until then.
    func release() {
        close(fd)
    }

}
