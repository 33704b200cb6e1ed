import LinxKernelSim
import LinxReconcile
import Testing

/// The order an address dump lists a link's addresses in, as Linux 6.18 does
/// (checked with `ip -j addr` in a throwaway namespace): callers read the
/// first address of a subnet as its primary, so the order is behaviour.
@Suite("Address dump order")
struct AddressOrderTests {
    /// The IPv4 (or IPv6) addresses of `ifindex` as the dump lists them.
    func listed(_ kernel: SimKernel, _ family: AddressFamily, on ifindex: Int32) async throws -> [String] {
        try await kernel.addresses(in: .current)
            .filter { $0.family == family && $0.ifindex == ifindex }
            .map { "\($0.address)/\($0.prefixLength)" }
    }

    @Test("IPv4: primaries in insertion order, then secondaries in insertion order, not sorted by address")
    func ipv4PrimariesFirst() async throws {
        let kernel = SimKernel()
        let (v0, _) = try kernel.addVethPair("v0", "v1")
        for text in ["10.0.0.9/24", "10.0.0.3/24", "10.0.1.5/24", "10.0.0.1/24", "10.0.1.2/24", "192.168.0.1/32", "10.0.2.1/16"] {
            #expect(await ok(kernel, .addAddress(addr(text, on: v0))))
        }
        #expect(
            try await listed(kernel, .ipv4, on: v0) == [
                "10.0.0.9/24", "10.0.1.5/24", "192.168.0.1/32", "10.0.2.1/16", "10.0.0.3/24", "10.0.0.1/24", "10.0.1.2/24",
            ])
        // Without promote_secondaries the primary takes its secondaries along; the rest keep their places.
        #expect(await ok(kernel, .deleteAddress(addr("10.0.0.9/24", on: v0))))
        #expect(try await listed(kernel, .ipv4, on: v0) == ["10.0.1.5/24", "192.168.0.1/32", "10.0.2.1/16", "10.0.1.2/24"])
        // A subnet whose primary went is empty again: its next address is a primary, listed after the others.
        #expect(await ok(kernel, .addAddress(addr("10.0.0.7/24", on: v0))))
        #expect(
            try await listed(kernel, .ipv4, on: v0) == ["10.0.1.5/24", "192.168.0.1/32", "10.0.2.1/16", "10.0.0.7/24", "10.0.1.2/24"])
    }

    @Test("promote_secondaries: the oldest secondary becomes primary and moves to the end of the primaries")
    func promotion() async throws {
        let kernel = SimKernel()
        let (v0, _) = try kernel.addVethPair("v0", "v1")
        try kernel.foreign.writeSysctl("net.ipv4.conf.v0.promote_secondaries", "1")
        for text in ["10.0.0.9/24", "10.0.1.5/24", "10.0.0.3/24", "10.0.0.1/24", "10.0.1.2/24", "10.0.3.1/24"] {
            #expect(await ok(kernel, .addAddress(addr(text, on: v0))))
        }
        #expect(await ok(kernel, .deleteAddress(addr("10.0.0.9/24", on: v0))))
        #expect(
            try await listed(kernel, .ipv4, on: v0) == ["10.0.1.5/24", "10.0.3.1/24", "10.0.0.3/24", "10.0.0.1/24", "10.0.1.2/24"])
        // The promoted one is a real primary: deleting it promotes the next, still after the others.
        #expect(await ok(kernel, .addAddress(addr("10.0.4.1/24", on: v0))))
        #expect(await ok(kernel, .deleteAddress(addr("10.0.0.3/24", on: v0))))
        #expect(
            try await listed(kernel, .ipv4, on: v0) == ["10.0.1.5/24", "10.0.3.1/24", "10.0.4.1/24", "10.0.0.1/24", "10.0.1.2/24"])
    }

    @Test("IPv6: global before link-local, the newest first within a scope")
    func ipv6NewestFirst() async throws {
        let kernel = SimKernel()
        let (v0, _) = try kernel.addVethPair("v0", "v1")
        for text in ["2001:db8::5/64", "2001:db8::1/64", "2001:db8:1::3/64", "2001:db8::2/64"] {
            #expect(await ok(kernel, .addAddress(addr(text, on: v0))))
        }
        let listedV6 = try await listed(kernel, .ipv6, on: v0)
        #expect(listedV6.dropLast() == ["2001:db8::2/64", "2001:db8:1::3/64", "2001:db8::1/64", "2001:db8::5/64"])
        #expect(listedV6.last?.hasPrefix("fe80::") == true)
    }

    @Test("a dump lists every IPv4 address, link by link, before any IPv6 one, and is the same every time")
    func familiesInTurn() async throws {
        let kernel = SimKernel()
        let (v0, v1) = try kernel.addVethPair("v0", "v1")
        #expect(await ok(kernel, .addAddress(addr("10.1.0.1/24", on: v1))))
        #expect(await ok(kernel, .addAddress(addr("10.0.0.1/24", on: v0))))
        let dump = try await kernel.addresses(in: .current)
        let families = dump.map(\.family)
        #expect(families == families.sorted { $0 == .ipv4 && $1 == .ipv6 })
        let v4 = dump.filter { $0.family == .ipv4 }.map(\.ifindex)
        #expect(v4 == v4.sorted())
        #expect(try await kernel.addresses(in: .current) == dump)
    }
}
