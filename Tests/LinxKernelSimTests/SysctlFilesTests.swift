@testable import LinxKernelSim
import Testing

/// The namespace's sysctl store keeps each link's files in one array; what
/// it answers must be what the flat map of paths it replaced answered, for
/// every reader: values, written marks and the list of paths.
@Suite("sysctl files store")
struct SysctlFilesTests {
    /// The flat map the simulator used before (one entry per file, a set of
    /// written paths), as the reference.
    struct FlatFiles {
        var values = SysctlCatalog.bootNetns()
        var written: Set<String> = []

        mutating func createLink(_ name: String, ipv6: Bool, mtu: UInt32) {
            for directory in SysctlCatalog.linkDirectories where ipv6 || !directory.needsIPv6 {
                let prefix = directory.path(of: name)
                for (suffix, spec, defaultPath) in directory.leaves {
                    values[prefix + suffix] = spec.writable ? (values[defaultPath] ?? spec.boot) : spec.boot
                }
            }
            if ipv6, values["net/ipv6/conf/\(name)/mtu"] != nil { values["net/ipv6/conf/\(name)/mtu"] = String(mtu) }
        }

        mutating func markIPv4Written(_ name: String) {
            for directory in SysctlCatalog.linkDirectories where directory.markedByIPv4Address {
                let prefix = directory.path(of: name)
                for leaf in directory.leaves { written.insert(prefix + leaf.suffix) }
            }
        }

        mutating func removeLink(_ name: String) {
            for directory in SysctlCatalog.linkDirectories {
                let prefix = directory.path(of: name)
                for leaf in directory.leaves {
                    values[prefix + leaf.suffix] = nil
                    written.remove(prefix + leaf.suffix)
                }
            }
        }
    }

    static let names = ["eth0", "eth1", "lo", "all", "default", "v0"]

    /// Paths the random walk reads and writes: for each name, leaves of every
    /// directory (with a leaf the catalog lacks), the namespace's own files.
    static let paths: [String] = {
        var out = ["net/ipv4/ip_forward", "net/core/somaxconn", "net/ipv4/conf/eth0/bogus", "net/ipv6/conf/v0/nosuch"]
        for name in names {
            for directory in SysctlCatalog.linkDirectories {
                for leaf in directory.leaves.prefix(3) + directory.leaves.suffix(2) {
                    out.append(directory.path(of: name) + leaf.suffix)
                }
            }
            out += ["net/ipv6/conf/\(name)/mtu", "net/ipv6/conf/\(name)/disable_ipv6", "net/ipv4/conf/\(name)/forwarding"]
        }
        return out
    }()

    /// `anyPath` false writes and marks only files that exist, as the
    /// simulator does (the store's fast path: one array per link); true
    /// also files that do not (strays, which the store keeps in its map).
    @Test(
        "a seeded walk of link adds, removes, marks and writes reads the same as a flat map",
        arguments: [false, true], [1, 2, 3] as [UInt64])
    func sameAsFlatMap(anyPath: Bool, seed: UInt64) {
        var random = SimRandom(seed: seed)
        var store = SimSysctlFiles(SysctlCatalog.bootNetns())
        var flat = FlatFiles()
        var existing: Set<String> = []
        for step in 0..<600 {
            let name = random.pick(Self.names)
            let path = random.pick(Self.paths)
            let op = random.below(8)
            // The simulator writes and marks only files that exist, and never unsets one.
            if !anyPath, op >= 4, flat.values[path] == nil || op == 5 { continue }
            let what: String
            switch op {
            case 0, 1:
                guard !existing.contains(name) else { continue }
                let mtu: UInt32 = random.chance(0.3) ? 1000 : 1500
                store.createLink(name, ipv6: mtu >= 1280, mtu: mtu)
                flat.createLink(name, ipv6: mtu >= 1280, mtu: mtu)
                existing.insert(name)
                what = "create \(name) mtu \(mtu)"
            case 2:
                guard existing.remove(name) != nil else { continue }
                store.removeLink(name)
                flat.removeLink(name)
                what = "remove \(name)"
            case 3:
                guard existing.contains(name) else { continue }
                store.markIPv4Written(name)
                flat.markIPv4Written(name)
                what = "mark \(name)"
            case 4:
                store.markWritten(path)
                flat.written.insert(path)
                what = "mark \(path)"
            case 5 where random.chance(0.1):
                store[path] = nil
                flat.values[path] = nil
                what = "unset \(path)"
            default:
                let value = String(random.below(3))
                store[path] = value
                flat.values[path] = value
                what = "set \(path) = \(value)"
            }
            for path in Self.paths {
                #expect(store[path] == flat.values[path], "step \(step) (\(what)): \(path)")
                #expect(store.isWritten(path) == flat.written.contains(path), "step \(step) (\(what)): written \(path)")
            }
            for name in Self.names {
                #expect(
                    store.linkValue(SysctlCatalog.ipv6ConfDirectory, SysctlCatalog.ipv6DisableIPv6, of: name)
                        == flat.values["net/ipv6/conf/\(name)/disable_ipv6"], "step \(step) (\(what)): \(name)")
            }
            if step % 50 == 0 || step == 599 {
                let listed = store.paths
                #expect(listed.count == Set(listed).count, "step \(step): a path listed twice")
                #expect(Set(listed) == Set(flat.values.keys), "step \(step) (\(what)): the list of paths")
            }
        }
    }
}
