import Foundation

/// Writes the files `linx` keeps between runs (the state file, a `--sim-state`
/// host) so that a crash mid-write leaves the previous file intact: a temp
/// file in the same directory, fsync, rename, fsync of the directory.
enum AtomicJSON {
    /// Replaces `path` with `value` as sorted, pretty-printed JSON. `what`
    /// names the file in the error ("state file").
    static func write(_ value: some Encodable, to path: String, what: String) throws(CommandError) {
        let fail = { (reason: String) in CommandError("cannot write \(what) \(path): \(reason)") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do { data = try encoder.encode(value) } catch { throw fail("\(error)") }
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw fail("cannot create \(directory) (\((error as NSError).localizedDescription))")
        }
        let temporary = "\(path).tmp-\(getpid())"
        if let reason = writeDurably(data, to: temporary) {
            unlink(temporary)
            throw fail(reason)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw fail(reason)
        }
        // The rename is durable only once the directory entry is.
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            fsync(dirfd)
            close(dirfd)
        }
    }

    /// Writes and fsyncs a new file; the reason on failure.
    private static func writeDurably(_ data: Data, to path: String) -> String? {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        return data.withUnsafeBytes { buffer -> String? in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                offset += written
            }
            return fsync(fd) == 0 ? nil : String(cString: strerror(errno))
        }
    }
}
