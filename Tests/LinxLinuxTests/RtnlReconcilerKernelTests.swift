import LinxLinux
import LinxReconcile
import LinxTestSupport
import Testing

// Real kernel: the rtnl reconciler against LinuxKernel in a throwaway
// namespace. Needs root; skipped (with the reason printed) otherwise.
@Suite("rtnl reconciler on the real kernel", .enabled(if: RealKernel.available, "needs root and iproute2"))
struct RtnlReconcilerKernelTests {
    let reconciler = RtnlReconciler(backend: LinuxKernel())

    let desired: RtnlDesiredState = [
        .address("10.0.0.2/24", on: "v0"),
        .address("2001:db8::2/64", on: "v0"),
        .route(to: "10.1.0.0/24", via: "10.0.0.1"),
        .route(to: "10.2.0.0/24", dev: "v0", table: 100, metric: 10),
        .route(to: "2001:db8:1::/64", via: "2001:db8::1"),
    ]

    /// What `ip` shows, the same way an operator would look.
    func snapshot(_ ns: ThrowawayNamespace) throws -> [String] {
        [try ns.settledAddresses(), try ns.ip("-j", "route", "show", "table", "all"), try ns.ip("-j", "-6", "route", "show", "table", "all")]
    }

    @Test func convergesThenSecondPassIsANoOp() async throws {
        try await ThrowawayNamespace.with { ns in
            let first = try await reconciler.reconcile(in: ns.scope, desired: desired)
            #expect(first.converged, "\(first.failed)")
            #expect(first.applied.count == 5)
            let owned = try ns.ip("route", "show", "table", "all", "proto", "76")
            #expect(owned.contains("10.1.0.0/24 via 10.0.0.1 dev v0"))
            #expect(owned.contains("10.2.0.0/24 dev v0 table 100"))
            #expect(try ns.ip("-6", "route", "show", "proto", "76").contains("2001:db8:1::/64 via 2001:db8::1 dev v0"))
            let before = try snapshot(ns)

            let second = try await reconciler.reconcile(in: ns.scope, desired: desired, lastApplied: first.lastApplied)
            #expect(second.converged && second.planned.isEmpty, "\(second.planned)")
            let after = try snapshot(ns)
            #expect(after == before, "\(difference(before, after))")
        }
    }

    @Test func foreignStateIsLeftAlone() async throws {
        try await ThrowawayNamespace.with { ns in
            try ns.ip("addr", "add", "10.0.0.50/24", "dev", "v0")
            try ns.ip("route", "add", "10.9.0.0/24", "via", "10.0.0.1", "proto", "static")
            try ns.ip("route", "add", "10.8.0.0/24", "via", "10.0.0.1", "table", "100")
            let first = try await reconciler.reconcile(in: ns.scope, desired: desired)
            #expect(first.converged)
            // Emptying the desired state removes only what the reconciler owns.
            let released = try await reconciler.reconcile(in: ns.scope, desired: .empty, lastApplied: first.lastApplied)
            #expect(released.converged, "\(released.failed)")
            #expect(try ns.ip("route", "show", "table", "all", "proto", "76").isEmpty)
            #expect(try ns.ip("-6", "route", "show", "proto", "76").isEmpty)
            let addresses = try ns.ip("addr", "show", "dev", "v0")
            #expect(addresses.contains("10.0.0.50/24") && !addresses.contains("10.0.0.2/24") && !addresses.contains("2001:db8::2"))
            #expect(try ns.ip("route", "show", "10.9.0.0/24").contains("proto static"))
            #expect(try ns.ip("route", "show", "table", "100").contains("10.8.0.0/24 via 10.0.0.1"))
        }
    }

    @Test func driftMadeWithIpIsHealed() async throws {
        try await ThrowawayNamespace.with { ns in
            let first = try await reconciler.reconcile(in: ns.scope, desired: desired)
            #expect(first.converged)
            let converged = try snapshot(ns)
            try ns.ip("route", "del", "10.2.0.0/24", "table", "100", "metric", "10")
            try ns.ip("route", "change", "10.1.0.0/24", "via", "10.0.0.254", "proto", "76")
            try ns.ip("route", "add", "10.7.0.0/24", "via", "10.0.0.1", "proto", "76")  // ours by tag, not desired
            try ns.ip("addr", "del", "2001:db8::2/64", "dev", "v0")
            let healed = try await reconciler.reconcile(in: ns.scope, desired: desired, lastApplied: first.lastApplied)
            #expect(healed.converged, "\(healed.failed)")
            #expect(!healed.applied.isEmpty)
            let after = try snapshot(ns)
            #expect(after == converged, "\(difference(converged, after))")
            let again = try await reconciler.reconcile(in: ns.scope, desired: desired, lastApplied: healed.lastApplied)
            #expect(again.planned.isEmpty)
        }
    }

    /// With promote_secondaries off, deleting a primary IPv4 address flushes
    /// its subnet's secondaries: replacing .2 with .3 must delete .2 first and
    /// then add .3, so the pass that reports .3 applied leaves it there (the
    /// conformance suite caught the opposite order on the simulator first).
    @Test func replacingAPrimaryAddressInTheSameSubnet() async throws {
        try await ThrowawayNamespace.with { ns in
            let first = try await reconciler.reconcile(in: ns.scope, desired: [.address("10.0.0.2/24", on: "v0")])
            #expect(first.converged)
            let wanted: RtnlDesiredState = [.address("10.0.0.3/24", on: "v0")]
            let second = try await reconciler.reconcile(in: ns.scope, desired: wanted, lastApplied: first.lastApplied)
            let afterSecond = try ns.ip("-4", "addr", "show", "dev", "v0")
            #expect(second.converged)
            #expect(afterSecond.contains("10.0.0.3/24"), "reported applied: \(second.applied)")
            let third = try await reconciler.reconcile(in: ns.scope, desired: wanted, lastApplied: second.lastApplied)
            #expect(third.converged)
            let addresses = try ns.ip("-4", "addr", "show", "dev", "v0")
            #expect(addresses.contains("10.0.0.3/24") && !addresses.contains("10.0.0.2/24"))
        }
    }

    @Test(arguments: [
        RtnlDesiredState([.address("10.0.0.2/24", on: "nope0")]),
        RtnlDesiredState([.address("10.0.0.2/24", on: "v0"), .route(to: "10.1.0.1/24", via: "10.0.0.1")]),
        RtnlDesiredState([.route(to: "10.1.0.0/24", via: "2001:db8::1")]),
        RtnlDesiredState([.address("10.0.0.2/33", on: "v0")]),
        RtnlDesiredState([.route(to: "10.1.0.0/24", via: "10.0.0.1"), .route(to: "10.1.0.0/24", via: "10.0.0.9")]),
    ])
    func invalidDesiredStateChangesNothing(_ invalid: RtnlDesiredState) async throws {
        try await ThrowawayNamespace.with { ns in
            try ns.ip("addr", "add", "10.0.0.5/24", "dev", "v0")
            let before = try snapshot(ns)
            let error = await #expect(throws: ReconcileError.self) {
                try await reconciler.reconcile(in: ns.scope, desired: invalid)
            }
            guard case .invalidDesired = error else {
                Issue.record("expected invalidDesired, got \(String(describing: error))")
                return
            }
            let after = try snapshot(ns)
            #expect(after == before, "\(difference(before, after))")
        }
    }
}

/// The JSON objects that differ between two `ip -j` snapshots, for messages.
func difference(_ before: [String], _ after: [String]) -> String {
    zip(before, after).map { old, new in
        let a = old.components(separatedBy: "},{"), b = new.components(separatedBy: "},{")
        return "-\(a.filter { !b.contains($0) }) +\(b.filter { !a.contains($0) })"
    }.joined(separator: "; ")
}
