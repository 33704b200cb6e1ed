import Foundation

/// Ownership (`lastApplied`) kept between `linx apply` runs, one file per scope.
///
/// Written atomically (temp file in the same directory, fsync, rename, fsync
/// of the directory) so a crash mid-write leaves the previous state intact.
/// A missing or unreadable file means "owns nothing", never "delete
/// everything": the worst a lost state file can do is leave our objects in
/// place, it can never make us delete someone else's.
struct StateFile {
    /// Default location for a scope: /var/lib/linx/<scope-slug>.json.
    static func defaultPath(forScope slug: String) -> String { "/var/lib/linx/\(slug).json" }

    let path: String

    /// The stored state, or nil (with the reason, for a warning) when there is none usable.
    func load<State: Decodable>(_ type: State.Type) -> (state: State?, warning: String?) {
        guard FileManager.default.fileExists(atPath: path) else {
            return (nil, "no state file at \(path): assuming linx owns nothing in this scope yet")
        }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return (try JSONDecoder().decode(State.self, from: data), nil)
        } catch {
            return (nil, "state file \(path) is unreadable or corrupt (\(error.localizedDescription)): assuming linx owns nothing; nothing will be deleted")
        }
    }

    /// Replaces the file atomically.
    func save(_ state: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(state)
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory.isEmpty ? "." : directory, withIntermediateDirectories: true)
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StateFileError(path: temporary, errno: errno) }
        defer { close(fd) }
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw StateFileError(path: temporary, errno: errno)
                }
                offset += written
            }
        }
        guard fsync(fd) == 0 else { throw StateFileError(path: temporary, errno: errno) }
        guard rename(temporary, path) == 0 else {
            let saved = errno
            unlink(temporary)
            throw StateFileError(path: path, errno: saved)
        }
        // The rename is durable only once the directory entry is.
        let dirfd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            fsync(dirfd)
            close(dirfd)
        }
    }
}

/// Writing the state file failed; the apply itself already happened.
struct StateFileError: Error, CustomStringConvertible {
    let path: String
    let errno: Int32
    var description: String { "cannot write state file \(path): \(String(cString: strerror(errno)))" }
}
