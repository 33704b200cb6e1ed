import LinxLinux
import LinxReconcile
import LinxTestSupport
import SystemPackage
import Testing

// Real kernel, issue 11: a pass reports exactly what the kernel did when an
// op is refused mid-pass (pipelined sends), ownership is never taken by
// adoption, and the kernel's own addresses never become ours.
@Suite("rtnl ownership and fail-fast honesty on the real kernel", .enabled(if: RealKernel.available, "needs root and iproute2"))
struct RtnlOwnershipKernelTests {
    let kernel = LinuxKernel()
    var reconciler: RtnlReconciler { RtnlReconciler(backend: kernel) }

    /// The routes tagged 76, as `ip` shows them.
    func ownedRoutes(_ ns: ThrowawayNamespace) throws -> String {
        try ns.ip("route", "show", "table", "all", "proto", "76")
    }

    /// A route create refused with ENETUNREACH, then (same pass) the delete
    /// of a route of ours: the pass stops before the delete stage, so the
    /// kernel never sees the delete, and pending says so truthfully.
    @Test func refusedRouteCreateStopsBeforeTheDeletes() async throws {
        try await ThrowawayNamespace.with { ns in
            try ns.ip("addr", "add", "10.0.0.2/24", "dev", "v0")
            try ns.ip("route", "add", "10.5.0.0/24", "via", "10.0.0.1", "proto", "76")
            let desired: RtnlDesiredState = [
                .route(to: "10.6.0.0/24", via: "10.0.0.1"),
                .route(to: "10.7.0.0/24", via: "192.168.9.1"),  // no address reaches it
            ]
            let report = try await reconciler.reconcile(in: ns.scope, desired: desired)
            #expect(report.failed.map(\.error.errno) == [.networkUnreachable], "\(report.failed)")
            // The other create of the stage was attempted too, and carried out.
            #expect(report.applied.map(\.symbol) == ["+"])
            #expect(try ownedRoutes(ns).contains("10.6.0.0/24 via 10.0.0.1"))
            // The delete is pending and the kernel really never saw it.
            #expect(report.pending.count == 1 && report.pending.first?.isDelete == true, "\(report.pending)")
            #expect(try ownedRoutes(ns).contains("10.5.0.0/24 via 10.0.0.1"), "a pending delete was carried out")
        }
    }

    /// An IPv6 address add refused (IPv6 disabled on the link) and an IPv4
    /// address add in the same stage: the IPv4 one is carried out, so it is
    /// reported applied and recorded in lastApplied (released later, no leak).
    @Test func addressAddAfterARefusalInItsStageIsReportedAndOwned() async throws {
        try await ThrowawayNamespace.with { ns in
            // The refused op must come first in the plan: addresses go in
            // (ifindex, family, address) order, so it sits on the lower index.
            let (first, second) = try ns.index(of: "v0") < ns.index(of: "br0") ? ("v0", "br0") : ("br0", "v0")
            try ns.setSysctl("net.ipv6.conf.\(first).disable_ipv6", "1")
            let desired: RtnlDesiredState = [.address("2001:db8:6::2/64", on: first), .address("10.0.9.2/24", on: second)]
            let report = try await reconciler.reconcile(in: ns.scope, desired: desired)
            #expect(report.failed.map(\.error.errno) == [.permissionDenied], "\(report.failed)")
            #expect(try ns.ip("addr", "show", "dev", second).contains("10.0.9.2/24"))
            #expect(report.applied.map { "\($0.item)" } == ["address 10.0.9.2/24 dev \(second)"], "\(report.applied)")
            #expect(report.pending.isEmpty)
            let record = RtnlLastApplied.AddressKey(interface: second, address: address("10.0.9.2"), prefixLength: 24)
            #expect(report.lastApplied.addresses == [record])
            let released = try await reconciler.reconcile(in: ns.scope, desired: .empty, lastApplied: report.lastApplied)
            #expect(released.converged, "\(released.failed)")
            #expect(!(try ns.ip("addr", "show", "dev", second).contains("10.0.9.2/24")), "the address leaked")
        }
    }

    /// Every op the report calls applied took effect and every pending one
    /// did not, across a pass that carries thousands of pipelined route
    /// creates with one refusal among them.
    @Test func aRefusalAmongThousandsOfPipelinedCreatesIsReportedExactly() async throws {
        try await ThrowawayNamespace.with { ns in
            try ns.ip("addr", "add", "10.0.0.2/24", "dev", "v0")
            try ns.ip("route", "add", "10.5.0.0/24", "via", "10.0.0.1", "proto", "76")
            var desired = RtnlDesiredState.empty
            for i in 0..<3000 { desired.append(.route(to: "10.40.\(i / 250).\(i % 250)/32", via: "10.0.0.1")) }
            desired.append(.route(to: "10.41.0.0/24", via: "192.168.9.1"))
            let report = try await reconciler.reconcile(in: ns.scope, desired: desired)
            #expect(report.failed.count == 1 && report.applied.count == 3000 && report.pending.count == 1)
            let routes = try await kernel.routes(in: ns.scope, matching: RouteFilter(family: .ipv4, proto: 76))
            #expect(routes.count == 3001, "3000 created, the pending delete's route still there")
        }
    }

    /// An address that was there before Linx wanted it is used, not owned:
    /// dropping it from the desired state leaves it. With the explicit adopt
    /// option it is recorded and released.
    @Test func anExistingAddressIsNotAdoptedUnlessAsked() async throws {
        try await ThrowawayNamespace.with { ns in
            try ns.ip("addr", "add", "10.0.0.9/24", "dev", "v0")
            let desired: RtnlDesiredState = [.address("10.0.0.9/24", on: "v0"), .address("10.0.0.10/24", on: "v0")]
            let first = try await reconciler.reconcile(in: ns.scope, desired: desired)
            #expect(first.converged, "\(first.failed)")
            #expect(first.lastApplied.addresses.map(\.description) == ["10.0.0.10/24 on v0"])
            let dropped = try await reconciler.reconcile(in: ns.scope, desired: .empty, lastApplied: first.lastApplied)
            #expect(dropped.converged)
            let shown = try ns.ip("addr", "show", "dev", "v0")
            #expect(shown.contains("10.0.0.9/24"), "an address Linx did not add was deleted")
            #expect(!shown.contains("10.0.0.10/24"))

            let adopt = RtnlOptions(adoptExistingAddresses: true)
            let adopted = try await reconciler.reconcile(
                in: ns.scope, desired: [.address("10.0.0.9/24", on: "v0")], options: adopt)
            #expect(adopted.lastApplied.addresses.map(\.description) == ["10.0.0.9/24 on v0"])
            _ = try await reconciler.reconcile(in: ns.scope, desired: .empty, lastApplied: adopted.lastApplied, options: adopt)
            #expect(!(try ns.ip("addr", "show", "dev", "v0").contains("10.0.0.9/24")))
        }
    }

    /// This kernel tags its own addresses (IFA_PROTO): ::1 on lo with 1
    /// (KERNEL_LO), IPv6 link-local addresses with 3 (KERNEL_LL); 127.0.0.1
    /// on lo carries no tag. AddressProtocol's documentation relies on it.
    @Test func theKernelTagsItsOwnAddresses() async throws {
        try await ThrowawayNamespace.with { ns in
            _ = try ns.settledAddresses()
            let addresses = try await kernel.addresses(in: ns.scope)
            let loopback6 = addresses.first { $0.address == address("::1") }
            #expect(loopback6?.proto == AddressProtocol.kernelLoopback)
            let linkLocal = addresses.filter(\.address.isIPv6LinkLocal)
            #expect(!linkLocal.isEmpty && linkLocal.allSatisfy { $0.proto == AddressProtocol.kernelLinkLocal }, "\(linkLocal.map { "\($0.address) \(String(describing: $0.proto))" })")
            let loopback4 = addresses.first { $0.address == address("127.0.0.1") }
            #expect(loopback4 != nil && loopback4?.proto == nil, "\(String(describing: loopback4))")
        }
    }

    /// The kernel's tags (0-3) are refused as ownership tags, and nothing
    /// is applied: with 1 or 2 a pass would own, and delete, ::1 and every
    /// link-local address.
    @Test(arguments: [UInt8(0), 1, 2, 3])
    func kernelAddressTagsAreRefused(_ tag: UInt8) async throws {
        try await ThrowawayNamespace.with { ns in
            let before = try ns.settledAddresses()
            await #expect(throws: ReconcileError.self) {
                _ = try await reconciler.reconcile(
                    in: ns.scope, desired: .empty, options: RtnlOptions(addressProtocol: tag))
            }
            #expect(try ns.settledAddresses() == before)
        }
    }

    /// Loopback and link-local addresses are never deleted, even when a
    /// (stale or edited) record claims them; nor are they kept in the record.
    @Test func loopbackAndLinkLocalAreNeverDeleted() async throws {
        try await ThrowawayNamespace.with { ns in
            _ = try ns.settledAddresses()
            let before = try await kernel.addresses(in: ns.scope)
            let links = Dictionary(uniqueKeysWithValues: try await kernel.links(in: ns.scope).map { ($0.index, $0.name) })
            let claimed = before.filter { $0.address.isIPv6LinkLocal || $0.address == address("::1") || $0.address == address("127.0.0.1") }
            #expect(claimed.count >= 4, "\(before)")
            let record = RtnlLastApplied(addresses: Set(claimed.map {
                .init(interface: links[$0.ifindex]!, address: $0.address, prefixLength: $0.prefixLength)
            }))
            let report = try await reconciler.reconcile(in: ns.scope, desired: .empty, lastApplied: record)
            #expect(report.planned.isEmpty, "\(report.planned)")
            #expect(report.lastApplied.addresses.isEmpty)
            let after = try await kernel.addresses(in: ns.scope)
            #expect(Set(after.map(\.key)) == Set(before.map(\.key)))
        }
    }

    /// With an IFA_PROTO ownership tag, an address Linx added is still known
    /// as Linx's after its record was lost (a crash before the state file was
    /// written): the tag proves it. Without a tag, a lost record owns nothing.
    @Test func theAddressTagProvesOwnershipAfterALostRecord() async throws {
        try await ThrowawayNamespace.with { ns in
            let tagged = RtnlOptions(addressProtocol: 77)
            let first = try await reconciler.reconcile(in: ns.scope, desired: [.address("10.0.0.2/24", on: "v0")], options: tagged)
            #expect(first.converged)
            let untagged = try await reconciler.reconcile(in: ns.scope, desired: [.address("10.0.1.2/24", on: "br0")])
            #expect(untagged.converged)
            #expect(try await kernel.addresses(in: ns.scope).first { $0.address == address("10.0.0.2") }?.proto == 77)
            // The crash: both records lost.
            _ = try await reconciler.reconcile(in: ns.scope, desired: .empty, lastApplied: .empty, options: tagged)
            #expect(!(try ns.ip("addr", "show", "dev", "v0").contains("10.0.0.2/24")), "the tagged address was not recognised")
            #expect(try ns.ip("addr", "show", "dev", "br0").contains("10.0.1.2/24"), "an untagged address was taken without proof")
        }
    }
}
