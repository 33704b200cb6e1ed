import LinxReconcile

/// A host's desired state across subsystems: the document `linx` reads,
/// `linx show` prints, and a node agent can load and reconcile with
/// ``HostReconciler``.
///
/// ```yaml
/// rtnl:
///   protocol: 76
///   addresses:
///     - { interface: eth0, address: 10.0.0.2/24 }
///   routes:
///     - { destination: default, gateway: 10.0.0.1 }
/// sysctl:
///   revertOnRelease: true
///   keys:
///     net.ipv4.ip_forward: 1
/// cgroups:
///   /sys/fs/cgroup/web:
///     memory.max: 268435456
///     cpu.max: { quota: 50000, period: 100000 }
/// nftables:
///   tables:
///     inet linx:
///       chains:
///         input:
///           hook: input
///           policy: drop
///           rules:
///             - ct state established,related accept
///             - tcp dport { 22, 443 } accept
/// ```
///
/// Every section is optional and so is every kind in it: what is not
/// written is not managed (its objects are left as they are, owned ones
/// included), while an empty list or mapping manages that kind as empty
/// (everything of it that Linx owns is deleted or released). Read a file
/// with ``load(path:)`` or ``parse(_:format:file:)``; print one with
/// ``yaml`` or ``json``. One type defines the format for all of them.
public struct HostDocument: Sendable, Hashable {
    /// The `rtnl` section: addresses and routes of one network namespace.
    public struct Rtnl: Sendable, Hashable {
        /// The desired addresses and routes (each kind nil when not given).
        public var desired: RtnlDesiredState
        /// `protocol`, `addressProtocol` and `adoptExistingAddresses`.
        public var options: RtnlOptions

        /// A section; by default it manages nothing.
        public init(desired: RtnlDesiredState = RtnlDesiredState(addresses: nil, routes: nil), options: RtnlOptions = .default) {
            self.desired = desired
            self.options = options
        }
    }

    /// The `sysctl` section.
    public struct Sysctl: Sendable, Hashable {
        /// The `keys` mapping, nil when the section has none (then no key is managed).
        public var desired: SysctlDesiredState?
        /// `revertOnRelease` and `allowHostWideKeys`.
        public var options: SysctlOptions

        /// A section; by default it manages nothing.
        public init(desired: SysctlDesiredState? = nil, options: SysctlOptions = .default) {
            self.desired = desired
            self.options = options
        }
    }

    /// One cgroup of the `cgroups` section: its directory and its files.
    public struct Cgroup: Sendable, Hashable {
        /// The cgroup's absolute directory path (`/sys/fs/cgroup/web`).
        public var path: String
        /// Interface file -> value; an empty map releases every owned file.
        public var desired: CgroupDesiredState

        /// A cgroup entry.
        public init(path: String, desired: CgroupDesiredState) {
            self.path = path
            self.desired = desired
        }
    }

    /// The `nftables` section: whole nf_tables tables in the document's
    /// network namespace, each reconciled as one transaction.
    public struct Nftables: Sendable, Hashable {
        /// One table of the section.
        public struct Table: Sendable, Hashable {
            /// Family and name (`inet linx`, as the section's key).
            public var ref: NftTableRef
            /// The table's content; nil (`absent`) wants it gone: deleted
            /// when it is Linx's (it carries the marker), else left alone.
            public var desired: NftTable?

            /// A table entry.
            public init(ref: NftTableRef, desired: NftTable?) {
                self.ref = ref
                self.desired = desired
            }
        }

        /// The tables, in the order written.
        public var tables: [Table]
        /// `marker`, `lifetime` and `maxRetries`, for every table.
        public var options: NftablesOptions

        /// A section; by default it manages no table.
        public init(tables: [Table] = [], options: NftablesOptions = .default) {
            self.tables = tables
            self.options = options
        }
    }

    /// The `rtnl` section, nil when absent.
    public var rtnl: Rtnl?
    /// The `sysctl` section, nil when absent.
    public var sysctl: Sysctl?
    /// The `cgroups` section's cgroups, in the order written.
    public var cgroups: [Cgroup]
    /// The `nftables` section, nil when absent.
    public var nftables: Nftables?
    /// Where the document was read from, with the line of every entry; nil
    /// for a document built in code. Not part of equality: two documents
    /// are equal when they declare the same state.
    public var origin: HostDocumentOrigin?

    /// A document; by default it declares nothing.
    public init(
        rtnl: Rtnl? = nil, sysctl: Sysctl? = nil, cgroups: [Cgroup] = [], nftables: Nftables? = nil,
        origin: HostDocumentOrigin? = nil
    ) {
        self.rtnl = rtnl
        self.sysctl = sysctl
        self.cgroups = cgroups
        self.nftables = nftables
        self.origin = origin
    }

    /// The section names this document declares, in apply order.
    public var sectionNames: [String] {
        (rtnl == nil ? [] : ["rtnl"]) + (sysctl == nil ? [] : ["sysctl"]) + (cgroups.isEmpty ? [] : ["cgroups"])
            + (nftables == nil ? [] : ["nftables"])
    }

    public static func == (lhs: HostDocument, rhs: HostDocument) -> Bool {
        lhs.rtnl == rhs.rtnl && lhs.sysctl == rhs.sysctl && lhs.cgroups == rhs.cgroups && lhs.nftables == rhs.nftables
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(rtnl)
        hasher.combine(sysctl)
        hasher.combine(cgroups)
        hasher.combine(nftables)
    }
}

/// Where a ``HostDocument`` was read from: the file and the line of every
/// entry, found by the entry's path in the document (`rtnl.routes[3]`,
/// `sysctl.keys."net/ipv4/ip_forward"`, `cgroups."/sys/fs/cgroup/web".memory.max`).
public struct HostDocumentOrigin: Sendable {
    /// The file as named by the caller.
    public var file: String
    /// The lines of list entries, by kind then index: a flat array each, as
    /// a file can hold many thousands of routes.
    var listLines: [DesiredPath: [Int32]] = [:]
    /// The lines of every other key.
    var keyLines: [DesiredPath: Int] = [:]

    /// An origin for `file`, with no line known yet.
    public init(file: String) {
        self.file = file
    }

    /// The line of the entry at `path`, or of the nearest enclosing entry
    /// that has one (a field of a route is on its route's line).
    public func line(of path: DesiredPath) -> Int? {
        var components = path.components
        while !components.isEmpty {
            if case .index(let index) = components.last!,
               let lines = listLines[DesiredPath(Array(components.dropLast()))], lines.indices.contains(index) {
                return Int(lines[index])
            }
            if let line = keyLines[DesiredPath(components)] { return line }
            components.removeLast()
        }
        return nil
    }

    mutating func record(_ path: DesiredPath, line: Int) {
        keyLines[path] = line
    }

    mutating func recordEntries(in list: DesiredPath, lines: [Int32]) {
        listLines[list] = lines
    }
}

/// A desired-state file that cannot be used, or an entry of it that a Source
/// refused: names the file, the line and the entry's path. Nothing was applied.
public struct HostDocumentError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file, when the document came from one.
    public var file: String?
    /// The line, when known.
    public var line: Int?
    /// The entry's path in the document (empty: the document as a whole).
    public var path: DesiredPath
    /// What is wrong with it.
    public var reason: String

    /// An error at `path`.
    public init(file: String?, line: Int?, path: DesiredPath, reason: String) {
        self.file = file
        self.line = line
        self.path = path
        self.reason = reason
    }

    /// `FILE:LINE: PATH: REASON`, on one line.
    public var description: String {
        var text = ""
        if let file { text += file + (line.map { ":\($0)" } ?? "") + ": " }
        text += (path.components.isEmpty ? "document" : path.description) + ": "
        return text + reason
    }
}
