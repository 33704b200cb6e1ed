import Foundation
import LinxKernelSim
import Testing

@testable import LinxReconcile

/// An interface name kept as plain bytes must behave exactly as the
/// `String?` it replaced: the same name back, the same equality, and the
/// same coded form of the routes and addresses that carry it.
@Suite("PackedName: an interface name as plain bytes")
struct PackedNameTests {
    /// Names of 0-40 bytes from ASCII, 2-, 3- and 4-byte characters, so
    /// lengths cross the 15-byte inline limit in the middle of a character.
    static func names(seed: UInt64, count: Int) -> [String?] {
        var random = SimRandom(seed: seed)
        let alphabet: [Character] = ["a", "Z", "0", ".", "-", "_", "@", "é", "ß", "€", "中", "😀", "\u{0}"]
        var out: [String?] = [nil, "", "eth0", "lo", "123456789012345", "1234567890123456"]
        for _ in 0..<count {
            let length = random.below(41)
            var name = ""
            while name.utf8.count < length { name.append(random.pick(alphabet)) }
            out.append(name)
        }
        return out
    }

    @Test("a name packs and unpacks to itself; equal packings are equal names", arguments: [1, 2, 3] as [UInt64])
    func roundTrip(seed: UInt64) {
        let names = Self.names(seed: seed, count: 2_000)
        for name in names {
            let packed = PackedName(name)
            #expect(packed.string == name, "\(String(describing: name))")
            #expect(packed.isAbsent == (name == nil))
            #expect(PackedName(name) == packed)
            #expect(PackedName(name).hashValue == packed.hashValue)
        }
        var random = SimRandom(seed: seed &+ 100)
        for _ in 0..<5_000 {
            let a = random.pick(names), b = random.pick(names)
            #expect((PackedName(a) == PackedName(b)) == (a == b), "\(String(describing: a)) vs \(String(describing: b))")
        }
    }

    @Test("routes and addresses carrying a name compare, hash and copy by their name's value")
    func carriers() {
        let prefix = try! IPPrefix(.v4(0x0A00_0000), length: 8)
        let long = String(repeating: "x", count: 30)
        var a = Route(destination: prefix, interfaceName: "eth0")
        var b = Route(destination: prefix, interfaceName: "eth" + "0")
        #expect(a == b && a.hashValue == b.hashValue)
        b.interfaceName = "eth1"
        #expect(a != b)
        a.interfaceName = long
        b.interfaceName = String(repeating: "x", count: 30)
        #expect(a == b && a.interfaceName == long)
        b.interfaceName = nil
        #expect(a != b && b.interfaceName == nil)
        var address = InterfaceAddress(ifindex: 2, address: .v4(1), prefixLength: 8, interfaceName: "v0")
        let copy = address
        address.interfaceName = "v1"
        #expect(copy.interfaceName == "v0" && address.interfaceName == "v1" && copy != address)
    }

    /// The stored layout before `PackedName`, with the coding Swift
    /// synthesizes for it: the reference the written-out coding must match
    /// byte for byte.
    struct SynthesizedRoute: Codable, Equatable {
        var table: UInt32
        var destination: IPPrefix
        var tos: UInt8
        var metric: UInt32
        var gateway: IPAddress?
        var ifindex: Int32?
        var proto: UInt8
        var scope: UInt8
        var type: RouteType
        var prefsrc: IPAddress?
        var interfaceName: String?

        init(_ r: Route) {
            (table, destination, tos, metric, gateway, ifindex) = (r.table, r.destination, r.tos, r.metric, r.gateway, r.ifindex)
            (proto, scope, type, prefsrc, interfaceName) = (r.proto, r.scope, r.type, r.prefsrc, r.interfaceName)
        }
    }

    struct SynthesizedAddress: Codable, Equatable {
        var ifindex: Int32
        var address: IPAddress
        var prefixLength: Int
        var proto: UInt8?
        var interfaceName: String?

        init(_ a: InterfaceAddress) {
            (ifindex, address, prefixLength, proto, interfaceName) = (a.ifindex, a.address, a.prefixLength, a.proto, a.interfaceName)
        }
    }

    @Test("routes and addresses encode and decode exactly as with the synthesized coding", arguments: [4, 5] as [UInt64])
    func coding(seed: UInt64) throws {
        var random = SimRandom(seed: seed)
        let names = Self.names(seed: seed, count: 300)
        // Sorted keys: Foundation on Linux writes an object's keys in hash order otherwise.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            for name in names {
                let v6 = random.chance(0.5)
                let length = random.below(v6 ? 129 : 33)
                let address: IPAddress = v6 ? .v6(high: random.next(), low: random.next()) : .v4(UInt32(truncatingIfNeeded: random.next()))
                let route = Route(
                    destination: try IPPrefix(address.masked(to: length), length: length),
                    gateway: random.chance(0.5) ? .v4(UInt32(random.below(1000))) : nil,
                    ifindex: random.chance(0.5) ? Int32(random.below(9)) : nil,
                    table: random.chance(0.5) ? 254 : 100, metric: UInt32(random.below(3)), tos: UInt8(random.below(2)),
                    proto: UInt8(random.below(200)), scope: UInt8(random.below(255)),
                    type: random.pick([.unicast, .blackhole, .local]), interfaceName: name,
                    prefsrc: random.chance(0.3) ? .v4(7) : nil)
                let coded = try encoder.encode(route)
                #expect(coded == (try encoder.encode(SynthesizedRoute(route))), "\(String(decoding: coded, as: UTF8.self))")
                #expect(try JSONDecoder().decode(Route.self, from: coded) == route)
                #expect(try JSONDecoder().decode(Route.self, from: try JSONEncoder().encode(SynthesizedRoute(route))) == route)
                let onLink = InterfaceAddress(
                    ifindex: Int32(random.below(9)), address: .v4(UInt32(random.below(1 << 20))), prefixLength: random.below(33),
                    proto: random.chance(0.5) ? 76 : nil, interfaceName: name)
                let codedAddress = try encoder.encode(onLink)
                #expect(codedAddress == (try encoder.encode(SynthesizedAddress(onLink))))
                #expect(try JSONDecoder().decode(InterfaceAddress.self, from: codedAddress) == onLink)
            }
        }
    }
}
