import Foundation

/// Reads the files `linx` is handed (the desired state, a state file, a
/// `--sim-state` host), refusing anything that is not a regular file with a
/// reason an operator can act on.
///
/// Opened non-blocking, so a FIFO with no writer cannot hang the command,
/// and checked with fstat on the open descriptor before any read, so
/// `/dev/zero` is refused instead of read forever and a directory is named
/// as one (Foundation reports both as "permission denied" or
/// "NSCocoaErrorDomain error 256").
enum RegularFile {
    /// Why a file cannot be read.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The whole file. `O_NOFOLLOW` is not used: a symlinked desired-state
    /// file is normal; what matters is what it points to.
    static func read(_ path: String) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            let code = errno
            switch code {
            case ENOENT: throw Failure(description: "no such file")
            case EACCES: throw Failure(description: "permission denied")
            default: throw Failure(description: String(cString: strerror(code)))
            }
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure(description: String(cString: strerror(errno))) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw Failure(description: kind(info.st_mode)) }
        // A regular file never blocks; cleared anyway so a slow (network)
        // filesystem gets ordinary reads rather than EAGAIN.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes.append(contentsOf: chunk[0..<count])
            } else if count == 0 {
                return bytes
            } else if errno != EINTR {
                throw Failure(description: String(cString: strerror(errno)))
            }
        }
    }

    /// Throws unless `path` is a regular file (or does not exist yet), for a
    /// file that is locked (``StateLock``) before it is read.
    static func check(_ path: String) throws(Failure) {
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT != S_IFREG { throw Failure(description: kind(info.st_mode)) }
    }

    /// What a file of `mode` is, when it is not the regular file wanted.
    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "is a directory, not a file"
        case S_IFIFO: "is a FIFO (named pipe), not a regular file"
        case S_IFCHR, S_IFBLK: "is a device, not a regular file"
        case S_IFSOCK: "is a socket, not a regular file"
        default: "is not a regular file"
        }
    }

    /// Whether `path` names anything at all (a dangling symlink counts: it
    /// is a file the operator made, and reading it says why it fails).
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }
}
