import Foundation

/// Writes the files `linx` keeps between runs (the state file, a `--sim-state`
/// host) so that a crash mid-write leaves the previous file intact and
/// nobody else's file is ever written.
///
/// The new content goes to a fresh temp file in the target's directory,
/// created with `O_CREAT | O_EXCL | O_NOFOLLOW` under a random name: if
/// anything already has that name (a symlink someone planted, pointing at
/// /etc/shadow), the create fails and another name is drawn, so the write
/// can only ever land in a file this call created. Then fsync, rename over
/// the target (which replaces a symlink there rather than following it),
/// and fsync of the directory so the rename itself is durable.
enum AtomicJSON {
    /// Replaces `path` with `value` as sorted, pretty-printed JSON. `what`
    /// names the file in the error ("state file").
    static func write(_ value: some Encodable, to path: String, what: String) throws(CommandError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do { data = try encoder.encode(value) } catch {
            throw CommandError("cannot write \(what) \(path): \(error)")
        }
        do {
            try replace(path, with: data)
        } catch {
            throw CommandError("cannot write \(what) \(path): \(error.description)")
        }
    }

    /// Why a replace failed.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Replaces `path` with `data`. `temporaryName` draws the temp file's
    /// path (tests pass a predictable one to plant something there first).
    static func replace(
        _ path: String, with data: Data, temporaryName: (String) -> String = randomTemporaryName
    ) throws(Failure) {
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw Failure(description: "cannot create \(directory) (\((error as NSError).localizedDescription))")
        }
        let (temporary, fd) = try create(in: path, temporaryName)
        do throws(Failure) {
            try writeAll(data, to: fd)
            guard fsync(fd) == 0 else { throw Failure(description: "fsync: \(String(cString: strerror(errno)))") }
            close(fd)
            guard rename(temporary, path) == 0 else {
                throw Failure(description: "rename: \(String(cString: strerror(errno)))")
            }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        // The rename is durable only once the directory entry is.
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirfd >= 0 else { throw Failure(description: "cannot open \(directory) to fsync it: \(String(cString: strerror(errno)))") }
        defer { close(dirfd) }
        guard fsync(dirfd) == 0 else { throw Failure(description: "fsync \(directory): \(String(cString: strerror(errno)))") }
    }

    /// `DIR/.NAME.tmp-RANDOM`: hidden, beside the target (rename works only
    /// within one filesystem), and not guessable ahead of time.
    static func randomTemporaryName(for path: String) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        return (directory.isEmpty ? "" : directory + "/") + ".\(name).tmp-\(suffix)"
    }

    /// Creates a new temp file, drawing another name while one is taken.
    private static func create(in path: String, _ temporaryName: (String) -> String) throws(Failure) -> (String, Int32) {
        for _ in 0..<16 {
            let candidate = temporaryName(path)
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd >= 0 { return (candidate, fd) }
            guard errno == EEXIST || errno == ELOOP else {
                throw Failure(description: "cannot create \(candidate): \(String(cString: strerror(errno)))")
            }
        }
        throw Failure(description: "every temporary name tried beside it was taken")
    }

    private static func writeAll(_ data: Data, to fd: Int32) throws(Failure) {
        let failure: String? = data.withUnsafeBytes { buffer -> String? in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                offset += written
            }
            return nil
        }
        if let failure { throw Failure(description: failure) }
    }
}
