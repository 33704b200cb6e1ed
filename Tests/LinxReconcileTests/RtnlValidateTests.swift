import LinxKernelSim
import LinxReconcile
import Testing

/// `RtnlReconciler.validate` refuses what a pass refuses, with the same
/// error, before any kernel is asked.
@Suite("rtnl validate: a pass's checks without the kernel")
struct RtnlValidateTests {
    /// Invalid states, one kind of mistake each, every interface named existing.
    static let invalid: [(String, RtnlDesiredState)] = [
        ("address not an IP", [.address("10.0.0.300/24", on: "eth0")]),
        ("prefix length out of range", [.address("10.0.0.2/33", on: "eth0")]),
        ("prefix length not a number", [.address("10.0.0.2/x", on: "eth0")]),
        ("IPv6 address twice with two lengths", [.address("fd00::1/64", on: "eth0"), .address("fd00::1/48", on: "eth0")]),
        ("host bits in a destination", [.route(to: "10.50.0.1/24", via: "10.0.0.1")]),
        ("gateway of the other family", [.route(to: "10.50.0.0/24", via: "fd00::1")]),
        ("unspecified gateway", [.route(to: "10.50.0.0/24", via: "0.0.0.0")]),
        ("neither gateway nor interface", [.route(to: "10.50.0.0/24")]),
        ("default without a gateway", [.route(to: "default", dev: "eth0")]),
        ("table 0", [.route(to: "10.50.0.0/24", via: "10.0.0.1", table: 0)]),
        (
            "one route, two next hops",
            [.address("10.0.0.2/24", on: "eth0"), .route(to: "10.50.0.0/24", via: "10.0.0.1"), .route(to: "10.50.0.0/24", via: "10.0.0.9")]
        ),
    ]

    /// The error a pass on a namespace holding `eth0` throws, and how many
    /// rtnetlink requests reached the kernel.
    func passError(_ desired: RtnlDesiredState, options: RtnlOptions = .default) async throws -> (ReconcileError?, writes: Int) {
        let kernel = SimKernel()
        let scope = NetnsScope.named("validate")
        try kernel.createNamespace(scope)
        try kernel.addLink("eth0", in: scope)
        let before = kernel.history.count
        let requests = {
            kernel.history.dropFirst(before).filter { entry in
                if case .request = entry.action { true } else { false }
            }.count
        }
        do {
            _ = try await RtnlReconciler(backend: kernel).reconcile(in: scope, desired: desired, options: options)
            return (nil, requests())
        } catch {
            return (error, requests())
        }
    }

    @Test("an invalid state is refused with the error a pass gives, and that pass writes nothing",
          arguments: invalid.indices)
    func refusedLikeAPass(_ index: Int) async throws {
        let (label, desired) = Self.invalid[index]
        let pass = try await passError(desired)
        let refused = try #require(pass.0, "a pass accepted \(label)")
        #expect(pass.writes == 0, "\(label)")
        #expect(throws: refused, "\(label)") { try RtnlReconciler.validate(desired) }
        #expect(refused.path != nil, "\(label): \(refused) names no path")
    }

    @Test("a valid state passes, and an interface is refused only when the namespace's names are given")
    func interfaces() throws {
        let desired: RtnlDesiredState = [
            .address("10.0.0.2/24", on: "eth0"),
            .address("fd00::1/64", on: "eth9"),
            .route(to: "10.50.0.0/24", via: "10.0.0.1", dev: "eth0"),
            .defaultRoute(via: "10.0.0.1"),
        ]
        try RtnlReconciler.validate(desired)
        try RtnlReconciler.validate(desired, interfaces: ["lo", "eth0", "eth9"])
        let error = try #require(throws: ReconcileError.self) {
            try RtnlReconciler.validate(desired, interfaces: ["lo", "eth0"])
        }
        #expect(error.path == ["addresses", .index(1)])
        #expect("\(error)".contains("no interface named \"eth9\""))
    }

    @Test("an ownership tag the kernel reserves is refused as a pass refuses it")
    func reservedTag() async throws {
        let options = RtnlOptions(routeProtocol: 2)
        let pass = try await passError([.route(to: "10.50.0.0/24", dev: "eth0")], options: options)
        let refused = try #require(pass.0)
        #expect(throws: refused) { try RtnlReconciler.validate([.route(to: "10.50.0.0/24", dev: "eth0")], options: options) }
        #expect(refused.path == ["options", "routeProtocol"])
    }
}
