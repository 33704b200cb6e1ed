/// A namespace's `net.` sysctl files, and which of its links' IPv4 conf and
/// neigh files count as written (the kernel's cnf.state bits).
///
/// Reads and writes go by path, exactly as in one flat map of paths to
/// values; only the storage differs. A link's four directories (IPv4 and
/// IPv6 conf and neigh: 130 files) are one array of values in
/// ``SysctlCatalog/LinkDirectory`` leaf order, made as a copy-on-write share
/// of the defaults a new link copies and dropped whole when the link goes.
/// A fuzzing scenario makes and removes links many times, and 130 path
/// inserts and removes per link were most of the simulator's rtnl time.
///
/// A path is either in a link's array or in the map, never both. The map
/// also takes what a link's array has no slot for: files of a directory the
/// link lacks (an IPv6 write on a link whose MTU gives it no IPv6
/// directory lands there, as it did in a flat map), and every file of a
/// link named `all` or `default`, whose paths are the namespace's own.
struct SimSysctlFiles: Sendable {
    /// The files outside links' arrays, by path.
    private var flat: [String: String]
    /// Written files (see ``markWritten(_:)``) that live in ``flat``.
    private var flatWritten: Set<String> = []
    /// Per link name, its directories' files.
    private var links: [String: LinkFiles] = [:]
    /// Set once the map or ``flatWritten`` holds a path shaped like a
    /// link's file (see the type's doc): making or removing a link then also
    /// walks the map.
    private var strays = false
    /// What a new link's files are copied from, per ``SysctlCatalog/LinkDirectory/leaves``
    /// slot across the four directories; nil after any write to the map
    /// until the next link is made.
    private var template: [String]?

    /// One link's files.
    struct LinkFiles: Sendable {
        /// Every slot of ``SysctlCatalog/linkSlots``; a slot of a directory the
        /// link lacks holds nothing that is read.
        var values: [String]
        /// Which of ``SysctlCatalog/linkDirectories`` exist for the link.
        var present: UInt8
        /// Written slots, one bit each.
        var written: [UInt64]

        func has(_ directory: Int) -> Bool { present & (1 << directory) != 0 }
    }

    init(_ flat: [String: String]) {
        self.flat = flat
        template = Self.template(from: flat)
    }

    // MARK: by path

    /// The value at `path`, nil when there is no such file.
    subscript(path: String) -> String? {
        get {
            if let (name, directory, slot) = Self.linkSlot(of: path), let files = links[name], files.has(directory) {
                return files.values[slot]
            }
            return flat[path]
        }
        set {
            if let (name, directory, slot) = Self.linkSlot(of: path), links[name]?.has(directory) == true {
                if let newValue {
                    links[name]!.values[slot] = newValue
                    return
                }
                // Removing one link file: what only a flat map could do. Move the link to the map.
                spill(name)
            }
            setFlat(path, newValue)
        }
    }

    /// Every path, in no particular order.
    var paths: [String] {
        var out = Array(flat.keys)
        for (name, files) in links {
            for (directory, layout) in SysctlCatalog.linkDirectories.enumerated() where files.has(directory) {
                let prefix = layout.path(of: name)
                for leaf in layout.leaves { out.append(prefix + leaf.suffix) }
            }
        }
        return out
    }

    /// Whether `path` counts as written since its link appeared.
    func isWritten(_ path: String) -> Bool {
        if let (name, directory, slot) = Self.linkSlot(of: path), let files = links[name], files.has(directory) {
            return files.written[slot >> 6] & (1 << UInt64(slot & 63)) != 0
        }
        return flatWritten.contains(path)
    }

    /// Marks `path` written, whether or not such a file exists (as a set of
    /// paths would).
    mutating func markWritten(_ path: String) {
        if let (name, directory, slot) = Self.linkSlot(of: path), links[name]?.has(directory) == true {
            links[name]!.written[slot >> 6] |= 1 << UInt64(slot & 63)
        } else {
            noteStray(path)
            flatWritten.insert(path)
        }
    }

    // MARK: a link's files

    /// `leaf` of `directory` (an index of ``SysctlCatalog/linkDirectories``)
    /// for link `name`, nil when there is no such file.
    func linkValue(_ directory: Int, _ leaf: SysctlCatalog.LinkLeaf, of name: String) -> String? {
        if let files = links[name], files.has(directory), let slot = leaf.slot { return files.values[slot] }
        return flat[SysctlCatalog.linkDirectories[directory].path(of: name) + "/" + leaf.name]
    }

    /// Makes link `name`'s directories (the IPv6 ones only with `ipv6`), each
    /// file copied from its directory's default, IPv6 conf.mtu set to `mtu`.
    mutating func createLink(_ name: String, ipv6: Bool, mtu: UInt32) {
        if Self.isNamespaceDirectory(name) || strays {
            createLinkInMap(name, ipv6: ipv6, mtu: mtu)
            if Self.isNamespaceDirectory(name) { return }
            // What the map held for the link's paths moves into its array.
            spillBack(name)
            return
        }
        var present: UInt8 = 0
        for (directory, layout) in SysctlCatalog.linkDirectories.enumerated() where ipv6 || !layout.needsIPv6 {
            present |= 1 << directory
        }
        if template == nil { template = Self.template(from: flat) }
        var files = LinkFiles(values: template!, present: present, written: Self.noneWritten)
        if ipv6, let slot = SysctlCatalog.ipv6MTU.slot { files.values[slot] = String(mtu) }
        links[name] = files
    }

    /// Marks every file of `name`'s directories that ``SysctlCatalog/LinkDirectory/markedByIPv4Address``
    /// names written.
    mutating func markIPv4Written(_ name: String) {
        // The link's files looked up once (every IPv4 address add calls
        // this), not once per directory and per word; nothing below adds or
        // removes a link, so the position stays valid.
        let slot = links.index(forKey: name)
        for (directory, layout) in SysctlCatalog.linkDirectories.enumerated() where layout.markedByIPv4Address {
            if let slot, links.values[slot].has(directory) {
                for (word, mask) in SysctlCatalog.directoryMasks[directory].enumerated() where mask != 0 {
                    links.values[slot].written[word] |= mask
                }
            } else {
                let prefix = layout.path(of: name)
                for leaf in layout.leaves {
                    noteStray(prefix + leaf.suffix)
                    flatWritten.insert(prefix + leaf.suffix)
                }
            }
        }
    }

    /// Removes link `name`'s directories, and every mark on their files.
    mutating func removeLink(_ name: String) {
        links[name] = nil
        guard Self.isNamespaceDirectory(name) || strays else { return }
        for layout in SysctlCatalog.linkDirectories {
            let prefix = layout.path(of: name)
            for leaf in layout.leaves {
                let path = prefix + leaf.suffix
                setFlat(path, nil)
                flatWritten.remove(path)
            }
        }
    }

    // MARK: storage

    private static let noneWritten = [UInt64](repeating: 0, count: (SysctlCatalog.linkSlots + 63) / 64)

    /// A link named like one of the namespace's own directories shares its paths.
    fileprivate static func isNamespaceDirectory(_ name: String) -> Bool { name == "all" || name == "default" }

    private mutating func setFlat(_ path: String, _ value: String?) {
        if value != nil { noteStray(path) }
        flat[path] = value
        template = nil
    }

    private mutating func noteStray(_ path: String) {
        if !strays, Self.linkSlot(of: path) != nil || Self.isLinkShaped(path) { strays = true }
    }

    /// A path in a link directory whose leaf the catalog lacks.
    private static func isLinkShaped(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count >= 5 && SysctlCatalog.linkDirectoryIndex[parts[0...2].joined(separator: "/")] != nil
            && parts[3] != "all" && parts[3] != "default"
    }

    /// The old way: one map entry per file.
    private mutating func createLinkInMap(_ name: String, ipv6: Bool, mtu: UInt32) {
        for layout in SysctlCatalog.linkDirectories where ipv6 || !layout.needsIPv6 {
            let prefix = layout.path(of: name)
            for (suffix, spec, defaultPath) in layout.leaves {
                setFlat(prefix + suffix, spec.writable ? (flat[defaultPath] ?? spec.boot) : spec.boot)
            }
        }
        let mtuPath = "net/ipv6/conf/\(name)/mtu"
        if ipv6, flat[mtuPath] != nil { setFlat(mtuPath, String(mtu)) }
    }

    /// Moves link `name`'s files from the map into an array of its own.
    private mutating func spillBack(_ name: String) {
        var present: UInt8 = 0
        var values = [String](repeating: "", count: SysctlCatalog.linkSlots)
        var written = Self.noneWritten
        for (directory, layout) in SysctlCatalog.linkDirectories.enumerated() {
            let prefix = layout.path(of: name)
            let base = SysctlCatalog.slotBase[directory]
            let found = layout.leaves.enumerated().map { ($0.offset, prefix + $0.element.suffix) }.filter { flat[$0.1] != nil }
            // A directory moves only when all of its files are there (the map keeps partial ones).
            guard found.count == layout.leaves.count else { continue }
            present |= 1 << directory
            for (i, path) in found {
                values[base + i] = flat.removeValue(forKey: path)!
                if flatWritten.remove(path) != nil { written[(base + i) >> 6] |= 1 << UInt64((base + i) & 63) }
            }
        }
        template = nil
        if present != 0 { links[name] = LinkFiles(values: values, present: present, written: written) }
    }

    /// Moves link `name`'s files from its array into the map.
    private mutating func spill(_ name: String) {
        guard let files = links.removeValue(forKey: name) else { return }
        for (directory, layout) in SysctlCatalog.linkDirectories.enumerated() where files.has(directory) {
            let prefix = layout.path(of: name)
            let base = SysctlCatalog.slotBase[directory]
            for (i, leaf) in layout.leaves.enumerated() {
                let slot = base + i
                setFlat(prefix + leaf.suffix, files.values[slot])
                if files.written[slot >> 6] & (1 << UInt64(slot & 63)) != 0 { flatWritten.insert(prefix + leaf.suffix) }
            }
        }
    }

    /// A new link's values: each writable file from its directory's default
    /// in `flat`, the rest at boot.
    private static func template(from flat: [String: String]) -> [String] {
        var values: [String] = []
        values.reserveCapacity(SysctlCatalog.linkSlots)
        for layout in SysctlCatalog.linkDirectories {
            for (_, spec, defaultPath) in layout.leaves {
                values.append(spec.writable ? (flat[defaultPath] ?? spec.boot) : spec.boot)
            }
        }
        return values
    }

    /// For `net/{ipv4,ipv6}/{conf,neigh}/NAME/LEAF` with NAME neither `all`
    /// nor `default` and LEAF in the catalog: the name, the directory's
    /// index and the leaf's slot.
    static func linkSlot(of path: String) -> (name: String, directory: Int, slot: Int)? {
        var utf8 = path.utf8[...]
        guard utf8.starts(with: "net/ipv".utf8) else { return nil }
        utf8 = utf8.dropFirst(7)
        let v6: Bool
        switch utf8.first {
        case UInt8(ascii: "4"): v6 = false
        case UInt8(ascii: "6"): v6 = true
        default: return nil
        }
        utf8 = utf8.dropFirst()
        let neigh: Bool
        if utf8.starts(with: "/conf/".utf8) {
            neigh = false
            utf8 = utf8.dropFirst(6)
        } else if utf8.starts(with: "/neigh/".utf8) {
            neigh = true
            utf8 = utf8.dropFirst(7)
        } else {
            return nil
        }
        guard let slash = utf8.firstIndex(of: UInt8(ascii: "/")) else { return nil }
        let leaf = utf8[utf8.index(after: slash)...]
        guard !leaf.contains(UInt8(ascii: "/")) else { return nil }
        let name = String(Substring(utf8[..<slash]))
        guard !isNamespaceDirectory(name) else { return nil }
        let directory = neigh ? (v6 ? SysctlCatalog.ipv6NeighDirectory : SysctlCatalog.ipv4NeighDirectory) : (v6 ? SysctlCatalog.ipv6ConfDirectory : SysctlCatalog.ipv4ConfDirectory)
        guard let slot = SysctlCatalog.leafSlots[directory][Substring(leaf)] else { return nil }
        return (name, directory, slot)
    }
}

extension SysctlCatalog {
    /// A file of every link directory of one kind, and its slot there.
    struct LinkLeaf: Sendable {
        var name: String
        /// Nil when the catalog has no such leaf (the file then never exists in an array).
        var slot: Int?

        init(_ directory: Int, _ name: String) {
            self.name = name
            slot = leafSlots[directory][Substring(name)]
        }
    }

    /// Indices into ``linkDirectories``.
    static let ipv4ConfDirectory = linkDirectoryIndex["net/ipv4/conf"]!
    static let ipv6ConfDirectory = linkDirectoryIndex["net/ipv6/conf"]!
    static let ipv4NeighDirectory = linkDirectoryIndex["net/ipv4/neigh"]!
    static let ipv6NeighDirectory = linkDirectoryIndex["net/ipv6/neigh"]!
    static let linkDirectoryIndex: [String: Int] = Dictionary(
        uniqueKeysWithValues: linkDirectories.enumerated().map { ($0.element.directory, $0.offset) })

    /// Where each directory's leaves start among a link's slots.
    static let slotBase: [Int] = linkDirectories.indices.map { i in linkDirectories[..<i].reduce(0) { $0 + $1.leaves.count } }
    /// Slots of a link: every leaf of every directory.
    static let linkSlots = linkDirectories.reduce(0) { $0 + $1.leaves.count }
    /// Per directory, leaf name -> slot (keyed by substrings: paths are
    /// looked up without copying their leaf out).
    static let leafSlots: [[Substring: Int]] = linkDirectories.enumerated().map { directory, layout in
        Dictionary(uniqueKeysWithValues: layout.leaves.enumerated().map { (Substring($0.element.suffix.dropFirst()), slotBase[directory] + $0.offset) })
    }
    /// Per directory, the written bits of all its slots.
    static let directoryMasks: [[UInt64]] = linkDirectories.enumerated().map { directory, layout in
        var words = [UInt64](repeating: 0, count: (linkSlots + 63) / 64)
        for i in layout.leaves.indices {
            let slot = slotBase[directory] + i
            words[slot >> 6] |= 1 << UInt64(slot & 63)
        }
        return words
    }

    static let ipv6MTU = LinkLeaf(ipv6ConfDirectory, "mtu")
    static let ipv6DisableIPv6 = LinkLeaf(ipv6ConfDirectory, "disable_ipv6")
    static let ipv6Forwarding = LinkLeaf(ipv6ConfDirectory, "forwarding")
    static let ipv4PromoteSecondaries = LinkLeaf(ipv4ConfDirectory, "promote_secondaries")
}

extension SimSysctlFiles {
    /// ``subscript(_:)`` for a key already split (`path` is `components`
    /// joined by `/`): the same value, with the link slot found from the
    /// components instead of by parsing the path. Every read of a key goes
    /// through here (fuzzing snapshots read two dozen keys twice a pass).
    subscript(components components: [String], path path: String) -> String? {
        if let (name, directory, slot) = Self.linkSlot(of: components), let files = links[name], files.has(directory) {
            return files.values[slot]
        }
        return flat[path]
    }

    /// ``linkSlot(of:)`` (a `String` path) for the path's components: a
    /// component holds no `/`, so `net/ipvN/{conf,neigh}/NAME/LEAF` is
    /// exactly five components with those first three.
    static func linkSlot(of components: [String]) -> (name: String, directory: Int, slot: Int)? {
        guard components.count == 5, components[0] == "net" else { return nil }
        let directory: Int
        switch (components[1], components[2]) {
        case ("ipv4", "conf"): directory = SysctlCatalog.ipv4ConfDirectory
        case ("ipv6", "conf"): directory = SysctlCatalog.ipv6ConfDirectory
        case ("ipv4", "neigh"): directory = SysctlCatalog.ipv4NeighDirectory
        case ("ipv6", "neigh"): directory = SysctlCatalog.ipv6NeighDirectory
        default: return nil
        }
        let name = components[3]
        guard !isNamespaceDirectory(name), let slot = SysctlCatalog.leafSlots[directory][Substring(components[4])] else {
            return nil
        }
        return (name, directory, slot)
    }
}
