import CNetlink
import Glibc
import LinxReconcile
import SystemPackage

/// Whole-file reads and writes on procfs / cgroupfs, with the errno the
/// kernel gave kept as a ``KernelError``. Blocking, short calls: run them on
/// the thread whose namespace should resolve the path.
package enum ProcFiles {
    /// Reads the file, trailing newline removed.
    package static func read(_ path: String) throws(KernelError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw error("cannot open \(path)") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if linx_errno() == EINTR { continue }
                throw error("cannot read \(path)")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `value` in one write(2), as the kernel parses a whole write.
    static func write(_ path: String, _ value: String) throws(KernelError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw error("cannot open \(path) for writing") }
        defer { close(fd) }
        var bytes = Array(value.utf8)
        if bytes.isEmpty { bytes = [UInt8(ascii: "\n")] }
        while true {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written >= 0 { return }
            if linx_errno() == EINTR { continue }
            throw error("cannot write \"\(value)\" to \(path)")
        }
    }

    /// Entries of a directory (no "." or ".."), each with whether it is a directory.
    package static func list(_ path: String) throws(KernelError) -> [(name: String, isDirectory: Bool)] {
        guard let directory = opendir(path) else { throw error("cannot list \(path)") }
        defer { closedir(directory) }
        var entries: [(String, Bool)] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var isDirectory = Int32(entry.pointee.d_type) == DT_DIR
            if Int32(entry.pointee.d_type) == DT_UNKNOWN {
                var info = stat()
                isDirectory = lstat(path + "/" + name, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
            }
            entries.append((name, isDirectory))
        }
        return entries
    }

    static func error(_ what: String) -> KernelError {
        KernelError(Errno(rawValue: linx_errno()), what)
    }
}
