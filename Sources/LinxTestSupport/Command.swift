import Glibc
import Synchronization

/// Runs an external program (`ip`, the built `linx`) and captures its
/// output: the one process runner of the tests and tools. Output goes to
/// temporary files, not pipes, so no amount of output on either stream can
/// block the child while the parent waits for the other (the deadlock of
/// reading a stdout pipe to its end before stderr), and no read is
/// interrupted by another test's child exiting (EINTR).
public enum Command {
    /// What a finished program left behind.
    public struct Output: Sendable {
        /// The exit status (128 + signal when killed).
        public var status: Int32
        /// Everything written to standard output.
        public var stdout: String
        /// Everything written to standard error.
        public var stderr: String
    }

    /// A program that failed: the command line, its status and stderr.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// The command line that failed.
        public var command: [String]
        /// What it printed, and its status.
        public var output: Output
        public var description: String {
            "`\(command.joined(separator: " "))` exited \(output.status): \(output.stderr)"
        }
    }

    /// Runs `arguments` (looked up in PATH and the sbin directories) with
    /// `input` on stdin, and waits for it.
    public static func run(_ arguments: [String], input: String? = nil) -> Output {
        guard let running = start(arguments, input: input) else {
            return Output(status: 127, stdout: "", stderr: "cannot run \(resolve(arguments[0]))")
        }
        return running.wait()
    }

    /// A program started by ``start(_:input:)``: its output can be read while
    /// it runs, as far as it got.
    public final class Running: Sendable {
        /// The child's pid.
        public let pid: pid_t
        private let stdoutFile: Int32
        private let stderrFile: Int32
        /// Set once the child is reaped: its pid may then belong to another
        /// process, so it is never signalled again, and its files are closed.
        private let finished = Mutex<Output?>(nil)

        fileprivate init(pid: pid_t, stdoutFile: Int32, stderrFile: Int32) {
            self.pid = pid
            self.stdoutFile = stdoutFile
            self.stderrFile = stderrFile
        }

        /// What it has written to standard output so far.
        public var stdout: String { finished.withLock { $0?.stdout } ?? Command.contents(stdoutFile) }
        /// What it has written to standard error so far.
        public var stderr: String { finished.withLock { $0?.stderr } ?? Command.contents(stderrFile) }

        /// Sends `signal` (SIGTERM by default); nothing once it was reaped.
        public func signal(_ signal: Int32 = SIGTERM) {
            finished.withLock { output in
                if output == nil { kill(pid, signal) }
            }
        }

        /// Waits for it to exit and returns everything it wrote; later calls
        /// return the same.
        public func wait() -> Output {
            if let done = finished.withLock({ $0 }) { return done }
            // Wait without reaping, outside the lock, so signal() stays
            // possible meanwhile; the pid stays ours until reaped below.
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
            return finished.withLock { finished in
                if let finished { return finished }
                let status = Command.wait(pid)
                let output = Output(status: status, stdout: Command.contents(stdoutFile), stderr: Command.contents(stderrFile))
                close(stdoutFile)
                close(stderrFile)
                finished = output
                return output
            }
        }
    }

    /// Starts `arguments` with `input` on stdin (else /dev/null), its stdout
    /// and stderr going to unlinked temporary files; nil when it cannot be
    /// started. Reap it with ``Running/wait()``.
    public static func start(_ arguments: [String], input: String? = nil) -> Running? {
        let stdoutFile = temporaryFile(), stderrFile = temporaryFile()
        let stdinFile = input.map { text in
            let file = temporaryFile()
            _ = text.utf8CString.withUnsafeBufferPointer { write(file, $0.baseAddress, $0.count - 1) }
            lseek(file, 0, SEEK_SET)
            return file
        }
        defer { if let stdinFile { close(stdinFile) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdinFile {
            posix_spawn_file_actions_adddup2(&actions, stdinFile, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, stdoutFile, 1)
        posix_spawn_file_actions_adddup2(&actions, stderrFile, 2)
        let program = resolve(arguments[0])
        var argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments.dropFirst()).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        guard posix_spawn(&pid, program, &actions, nil, &argv, environ) == 0 else {
            close(stdoutFile)
            close(stderrFile)
            return nil
        }
        return Running(pid: pid, stdoutFile: stdoutFile, stderrFile: stderrFile)
    }

    /// Starts `arguments` in the background (stdin, stdout and stderr on
    /// /dev/null) and returns its pid; reap it with ``wait(_:)``.
    public static func spawn(_ arguments: [String]) -> pid_t? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        let program = resolve(arguments[0])
        var argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments.dropFirst()).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        return posix_spawn(&pid, program, &actions, nil, &argv, environ) == 0 ? pid : nil
    }

    /// Waits for a spawned process and returns its exit status.
    @discardableResult
    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Runs and throws ``Failure`` unless the program exits 0; returns stdout.
    @discardableResult
    public static func check(_ arguments: [String], input: String? = nil) throws(Failure) -> String {
        let output = run(arguments, input: input)
        guard output.status == 0 else { throw Failure(command: arguments, output: output) }
        return output.stdout
    }

    private static func resolve(_ name: String) -> String {
        if name.contains("/") { return name }
        let path = (getenv("PATH").map { String(cString: $0) } ?? "") + ":/usr/sbin:/sbin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where access("\(directory)/\(name)", X_OK) == 0 {
            return "\(directory)/\(name)"
        }
        return name
    }

    /// An open, already unlinked temporary file: nothing is left in /tmp
    /// even if the process dies mid-command.
    private static func temporaryFile() -> Int32 {
        var template = Array("/tmp/linx-command-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return fd
    }

    /// The file's content, read with pread: the child shares the file's
    /// offset, so moving it would make a running child overwrite its output.
    fileprivate static func contents(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(bytes.count)) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
