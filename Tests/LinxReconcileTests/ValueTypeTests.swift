import LinxReconcile
import Testing

@Suite("IP addresses and prefixes")
struct ValueTypeTests {
    @Test("addresses print in inet_ntop's canonical form", arguments: [
        ("10.0.0.1", "10.0.0.1"), ("fc00:0:0::1", "fc00::1"), ("FE80::A", "fe80::a"),
        ("::", "::"), ("0.0.0.0", "0.0.0.0"), ("2001:db8::ffff:1:1", "2001:db8::ffff:1:1"),
    ])
    func canonical(input: String, expected: String) throws {
        #expect(try IPAddress(input).description == expected)
    }

    @Test("bad addresses name the value and the reason", arguments: ["300.1.1.1", "10.0.0", "fc00:::1", "", "eth0", "10.0.0.1\0junk", "fc00::1\0"])
    func badAddress(text: String) {
        #expect {
            try IPAddress(text)
        } throws: { error in
            let error = error as! ValueError
            return error.value == text && error.description.contains("not a valid")
        }
    }

    @Test("a prefix with host bits set is refused, naming the network")
    func hostBits() {
        #expect {
            try IPPrefix("10.0.0.1/24")
        } throws: { error in
            "\(error)" == "\"10.0.0.1/24\": host bits are set (the network is 10.0.0.0/24)"
        }
    }

    @Test("prefix lengths out of range are refused", arguments: ["10.0.0.0/33", "fc00::/129", "10.0.0.0/-1", "10.0.0.0/x"])
    func lengthOutOfRange(text: String) {
        #expect(throws: ValueError.self) { try IPPrefix(text) }
    }

    @Test("prefix 33 on IPv4 names the family and the range")
    func prefix33() {
        #expect {
            try IPPrefix("10.0.0.0/33")
        } throws: { error in
            "\(error)".contains("out of range for ipv4 (0...32)")
        }
    }

    @Test("a bare address is a host prefix; masking works across the 64-bit halves")
    func hostPrefixAndMasking() throws {
        #expect(try IPPrefix("10.1.2.3").length == 32)
        #expect(try IPPrefix("fc00::1").length == 128)
        #expect(try IPAddress("fc00:1:2:3:4:5:6:7").masked(to: 80) == IPAddress("fc00:1:2:3:4::"))
        #expect(try IPAddress("10.1.2.3").masked(to: 0) == IPAddress("0.0.0.0"))
        #expect(try IPPrefix("10.0.0.0/8").contains(IPAddress("10.200.0.1")))
        #expect(try !IPPrefix("10.0.0.0/8").contains(IPAddress("fc00::1")))
    }

    @Test("network byte order round-trips")
    func bytes() throws {
        let v6 = try IPAddress("2001:db8::1")
        #expect(v6.bytes.prefix(4) == [0x20, 0x01, 0x0d, 0xb8])
        let rebuilt = v6.bytes.withUnsafeBytes { IPAddress(ipv6Bytes: $0) }
        #expect(rebuilt == v6)
        #expect(try IPAddress("192.168.1.2").bytes == [192, 168, 1, 2])
    }

    @Test("IPv6 route metric 0 is stored as 1024, as the kernel does")
    func ipv6Metric() throws {
        #expect(Route(destination: try IPPrefix("fc00::/64")).metric == 1024)
        #expect(Route(destination: try IPPrefix("10.0.0.0/8")).metric == 0)
    }

    @Test("sysctl keys: dotted, slashed, dotted interface names, and escapes refused")
    func sysctlKeys() throws {
        #expect(try SysctlKey("net.ipv4.ip_forward").path == "net/ipv4/ip_forward")
        #expect(try SysctlKey("net/ipv4/ip_forward") == SysctlKey("net.ipv4.ip_forward"))
        let vlan = try SysctlKey("net.ipv4.conf.eth0/100.forwarding")
        #expect(vlan.components == ["net", "ipv4", "conf", "eth0.100", "forwarding"])
        #expect(vlan.description == "net.ipv4.conf.eth0/100.forwarding")
        #expect(try SysctlKey("net/ipv4/conf/eth0.100/forwarding") == vlan)
        for bad in ["", "/proc/sys/net", "net/../../etc/passwd", "net..ipv4", ".net"] {
            #expect(throws: ValueError.self, "\(bad)") { try SysctlKey(bad) }
        }
        #expect(try !SysctlKey("kernel.hostname").isNetworkNamespaced)
    }

    @Test("a key built from components cannot name a file outside /proc/sys")
    func componentsStayInside() async {
        #expect(SysctlKey(components: ["net", "ipv4", "conf", "eth0.100", "forwarding"]).path == "net/ipv4/conf/eth0.100/forwarding")
        await #expect(processExitsWith: .failure) { _ = SysctlKey(components: ["..", "..", "etc", "passwd"]) }
        await #expect(processExitsWith: .failure) { _ = SysctlKey(components: ["net/../../etc"]) }
    }

    @Test("kernel errors print the errno's name")
    func kernelErrorNames() {
        #expect(KernelError(.fileExists).description.hasPrefix("EEXIST"))
        #expect(KernelError(.networkUnreachable, "Nexthop has invalid gateway").description == "ENETUNREACH (Nexthop has invalid gateway)")
    }
}
