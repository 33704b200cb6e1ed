import Foundation
import LinxReconcile
import Testing

@Suite("sysctl desired state and validation (pure)")
struct SysctlValueTests {
    @Test("values compare whitespace-normalised, as the kernel prints them")
    func normalised() {
        #expect(SysctlValue.normalized("32768\t60999\n") == SysctlValue.normalized(" 32768   60999"))
        #expect(SysctlValue.normalized("1") == SysctlValue.integer(1).text)
    }

    @Test("dictionary literal with integers and strings; JSON is a flat map")
    func literalAndCodable() throws {
        let desired: SysctlDesiredState = ["net.ipv4.ip_forward": 1, "net.ipv4.ip_local_port_range": "32768 60999"]
        #expect(desired["net.ipv4.ip_forward"] == .integer(1))
        let json = Data(#"{"net.ipv4.ip_forward":1,"net.ipv4.ip_local_port_range":"32768 60999"}"#.utf8)
        #expect(try JSONDecoder().decode(SysctlDesiredState.self, from: json) == desired)
        let record = SysctlLastApplied(owned: [try SysctlKey("net/ipv4/ip_forward"): "0"])
        let encoded = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        #expect(encoded == #"{"net.ipv4.ip_forward":"0"}"#)
        #expect(try JSONDecoder().decode(SysctlLastApplied.self, from: Data(encoded.utf8)) == record)
    }

    @Test("keys that escape /proc/sys are refused, naming the key", arguments: ["", "/proc/sys/net", "net..ipv4", "net/../kernel/x", ".net", "net/a\u{600}/../x", "net/\u{600}/x", "net.a\u{600}/\u{0}"])
    func badKeys(text: String) throws {
        let error = try #require(throws: ReconcileError.self) {
            try SysctlReconciler.validate([text: 1], scope: .current)
        }
        guard case .invalidDesired(let entry, _, _) = error else { Issue.record("\(error)"); return }
        #expect(entry.contains("\"\(text)\""))
    }

    @Test("a host-wide key from another netns is refused unless allowed")
    func hostWide() throws {
        let desired: SysctlDesiredState = ["kernel.pid_max": 65536]
        let error = try #require(throws: ReconcileError.self) {
            try SysctlReconciler.validate(desired, scope: .named("c1"))
        }
        #expect("\(error)".contains("would change the whole host"))
        #expect(try SysctlReconciler.validate(desired, scope: .current).count == 1)
        #expect(try SysctlReconciler.validate(desired, scope: .pid(42), options: .init(allowHostWideKeys: true)).count == 1)
    }

    @Test("the same key written dotted and slashed: equal values merge, different ones are refused")
    func sameKeyTwice() throws {
        let same: SysctlDesiredState = ["net.ipv4.ip_forward": 1, "net/ipv4/ip_forward": "1"]
        #expect(try SysctlReconciler.validate(same, scope: .current).count == 1)
        let clash: SysctlDesiredState = ["net.ipv4.ip_forward": 1, "net/ipv4/ip_forward": 0]
        #expect(throws: ReconcileError.self) { try SysctlReconciler.validate(clash, scope: .current) }
    }

    @Test("an interface name with a dot is written with '/' in the dotted form")
    func dottedInterface() throws {
        let wanted = try SysctlReconciler.validate(["net.ipv4.conf.eth0/100.forwarding": 1], scope: .current)
        #expect(wanted.keys.first?.components == ["net", "ipv4", "conf", "eth0.100", "forwarding"])
    }
}
