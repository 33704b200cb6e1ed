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
        /// The errno of a failed create, to say in words what it means.
        var code: Int32?
    }

    /// Replaces `path` with `data`. `temporaryName` draws the temp file's
    /// path (tests pass a predictable one to plant something there first);
    /// the new file gets `permissions` (private by default: a state file
    /// says what the machine owns).
    static func replace(
        _ path: String, with data: Data, permissions: mode_t = 0o600,
        temporaryName: (String) -> String = randomTemporaryName
    ) throws(Failure) {
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw Failure(description: "cannot create \(directory) (\((error as NSError).localizedDescription))")
        }
        let (temporary, fd) = try create(in: path, temporaryName)
        do throws(Failure) {
            guard fchmod(fd, permissions) == 0 else { throw Failure(description: "chmod: \(String(cString: strerror(errno)))") }
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
            let code = errno
            guard code == EEXIST || code == ELOOP else {
                throw Failure(description: "cannot create \(candidate): \(String(cString: strerror(code)))", code: code)
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

    // MARK: checking before writing

    /// Throws unless a ``replace(_:with:permissions:temporaryName:)`` of
    /// `path` can be expected to succeed: `path` is absent or a regular file
    /// (a device would be replaced by a file, a directory cannot be), and
    /// the nearest directory on the way to it that exists takes new files.
    /// That is tried, by creating a temp file there and removing it at once,
    /// since only the kernel knows (/proc refuses, a read-only mount
    /// refuses, root passes permissions): a command checks every output this
    /// way before it runs, and writes none when one is bad.
    static func checkWritable(_ path: String) throws(Failure) {
        guard !path.isEmpty else { throw Failure(description: "an empty path") }
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
            throw Failure(description: "\(path) \(RegularFile.kind(info.st_mode))")
        }
        try checkCreatable(under: path)
    }

    /// Throws unless `path` is a directory that takes new files, or is
    /// absent and could be created (checked as ``checkWritable(_:)`` does).
    static func checkDirectory(_ path: String) throws(Failure) {
        guard !path.isEmpty else { throw Failure(description: "an empty path") }
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw Failure(description: "\(path) is not a directory") }
            try probe(path, name: "probe")
        } else {
            try checkCreatable(under: path)
        }
    }

    /// Finds the nearest existing directory above `path` and probes it.
    private static func checkCreatable(under path: String) throws(Failure) {
        var name = (path as NSString).lastPathComponent
        var directory = parent(of: path)
        var info = stat()
        while stat(directory, &info) != 0 {
            let code = errno
            guard code == ENOENT || code == ENOTDIR, directory != "/", directory != "." else {
                throw Failure(description: "cannot reach \(directory): \(String(cString: strerror(code)))", code: code)
            }
            name = (directory as NSString).lastPathComponent
            directory = parent(of: directory)
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw Failure(description: "\(directory) is not a directory")
        }
        try probe(directory, name: name)
    }

    private static func parent(of path: String) -> String {
        let parent = (path as NSString).deletingLastPathComponent
        return parent.isEmpty ? "." : parent
    }

    /// Creates a temp file in `directory` and removes it.
    private static func probe(_ directory: String, name: String) throws(Failure) {
        let fd: Int32
        let temporary: String
        do {
            (temporary, fd) = try create(in: (directory as NSString).appendingPathComponent(name), randomTemporaryName)
        } catch {
            switch error.code {
            case EACCES, EPERM: throw Failure(description: "\(directory) is not writable (permission denied)", code: error.code)
            case EROFS: throw Failure(description: "\(directory) is on a read-only file system", code: error.code)
            case ENOENT: throw Failure(description: "\(directory) does not take new files", code: error.code)
            case let code?: throw Failure(description: "cannot create a file in \(directory): \(String(cString: strerror(code)))", code: code)
            case nil: throw error
            }
        }
        close(fd)
        unlink(temporary)
    }
}
