import Glibc
import LinxReconcile
import Testing

/// IPv4 addresses are printed by hand (reports print tens of thousands):
/// the text must be exactly `inet_ntop`'s.
@Suite("IPv4 text")
struct IPv4TextTests {
    static func ntop(_ value: UInt32) -> String {
        var raw = in_addr(s_addr: value.bigEndian)
        var buffer = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &raw, &buffer, socklen_t(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test("an IPv4 address prints as inet_ntop prints it")
    func sameAsInetNtop() throws {
        var values: [UInt32] = [0, 1, 255, 256, 0x7F00_0001, 0xC0A8_0001, 0x0A00_0000, 0xFFFF_FFFF, 0x0102_0304, 0x6400_0A0B]
        var state: UInt32 = 15
        for _ in 0..<2_000 {
            state = state &* 1_664_525 &+ 1_013_904_223
            values.append(state)
        }
        for value in values {
            #expect(IPAddress.v4(value).description == Self.ntop(value))
            #expect(try IPAddress(Self.ntop(value)) == .v4(value))
        }
    }
}
