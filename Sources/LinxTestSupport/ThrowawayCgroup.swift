import Glibc
import LinxLinux
import Synchronization

/// A cgroup made for one test in every hierarchy this machine has that
/// tests use: the unified (v2) mount and the v1 `pids` and `memory`
/// controllers. Always removed afterwards; names are `linx-test-<pid>-<n>`
/// and ``sweepLeftovers()`` removes those of dead runs. No process is ever
/// moved into them, so removal is a plain rmdir.
public struct ThrowawayCgroup: Sendable {
    /// The prefix every throwaway cgroup name starts with.
    public static let prefix = "linx-test-"

    /// The directory name, the same in every hierarchy.
    public let name: String
    /// The child of the cgroup2 mount, if the machine has one.
    public let unified: String?
    /// The child in the v1 pids hierarchy, if mounted.
    public let pids: String?
    /// The child in the v1 memory hierarchy, if mounted.
    public let memory: String?

    /// Every directory created.
    public var directories: [String] { [unified, pids, memory].compactMap { $0 } }

    private static let counter = Mutex(0)

    /// What went wrong creating a cgroup.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// The directory that could not be made.
        public var path: String
        /// Why, as mkdir(2) said.
        public var errno: Int32
        public var description: String { "cannot create cgroup \(path): \(String(cString: strerror(errno)))" }
    }

    /// Creates the cgroups; on failure removes those already made.
    public static func create() throws(Failure) -> ThrowawayCgroup {
        sweepLeftovers()
        let serial = counter.withLock { counter in
            counter += 1
            return counter
        }
        let name = "\(prefix)\(getpid())-\(serial)"
        let mounts = CgroupMounts.current()
        var made: [String] = []
        func make(_ parent: String?) throws(Failure) -> String? {
            guard let parent else { return nil }
            let path = parent + "/" + name
            guard mkdir(path, 0o755) == 0 else {
                let code = errno
                for directory in made.reversed() { rmdir(directory) }
                throw Failure(path: path, errno: code)
            }
            made.append(path)
            return path
        }
        let unified = try make(mounts.unified)
        let pids = try make(mounts.v1["pids"])
        let memory = try make(mounts.v1["memory"])
        return ThrowawayCgroup(name: name, unified: unified, pids: pids, memory: memory)
    }

    /// Runs `body` with fresh cgroups and removes them afterwards.
    public static func with<T>(_ body: (ThrowawayCgroup) async throws -> T) async throws -> T {
        let cgroup = try create()
        defer { cgroup.remove() }
        return try await body(cgroup)
    }

    /// Removes every directory created (they hold no processes).
    public func remove() {
        for directory in directories { rmdir(directory) }
    }

    /// Removes leftover test cgroups of runs whose process is gone.
    public static func sweepLeftovers() {
        let mounts = CgroupMounts.current()
        for parent in [mounts.unified, mounts.v1["pids"], mounts.v1["memory"]].compactMap({ $0 }) {
            guard let entries = try? ProcFiles.list(parent) else { continue }
            for entry in entries where entry.isDirectory && entry.name.hasPrefix(prefix)
                && !ThrowawayNames.ownerIsAlive(entry.name, prefix: prefix) {
                rmdir(parent + "/" + entry.name)
            }
        }
    }
}

/// Where the cgroup hierarchies are mounted, from /proc/self/mountinfo.
public struct CgroupMounts: Sendable {
    /// The cgroup2 mount point.
    public var unified: String?
    /// v1 mount point by controller name.
    public var v1: [String: String]

    /// Reads the mount table of this process.
    public static func current() -> CgroupMounts {
        var mounts = CgroupMounts(unified: nil, v1: [:])
        guard let text = try? ProcFiles.read("/proc/self/mountinfo") else { return mounts }
        for line in text.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2 else { continue }
            let fields = halves[0].split(separator: " "), tail = halves[1].split(separator: " ")
            guard fields.count >= 5, tail.count >= 3 else { continue }
            let mountPoint = String(fields[4])
            if tail[0] == "cgroup2", mounts.unified == nil {
                mounts.unified = mountPoint
            } else if tail[0] == "cgroup" {
                for option in tail[2].split(separator: ",") where mounts.v1[String(option)] == nil {
                    mounts.v1[String(option)] = mountPoint
                }
            }
        }
        return mounts
    }
}
