@testable import LinxConformance
import LinxKernelSim
import LinxReconcile
import Testing

/// The simulator canonicalises a desired table as one commit per command
/// in a scratch namespace, run in place. Checked against doing exactly
/// that through the kernel's public commit path (a fresh namespace, one
/// foreign commit per command): the same listing, or the same refusal.
@Suite("simulated nf_tables: canonicalising in place")
struct NftCanonicalizeTests {
    static let ref = NftablesStateModel.table

    /// The reference: the commits canonicalise describes, one by one.
    func reference(_ table: NftTable) throws -> Result<NftTable, KernelError> {
        let kernel = SimKernel(seed: 1)
        let scope = NetnsScope.named("scratch")
        try kernel.createNamespace(scope)
        let socket = kernel.nftSocket()
        var commands: [NftCommand] = [.addTable(Self.ref, flags: [], comment: nil)]
        for set in table.sets {
            commands.append(.addSet(Self.ref, set.declaration))
            commands += set.elements.map { .addElements(Self.ref, set: set.name, [$0]) }
        }
        commands += table.chains.map { .addChain(Self.ref, name: $0.name, base: $0.base) }
        for chain in table.chains { commands += chain.rules.map { .addRule(Self.ref, chain: chain.name, rule: $0, before: nil) } }
        for command in commands {
            do {
                try socket.commit([command], in: scope)
            } catch {
                return .failure(error.error)
            }
        }
        return .success(kernel.nftTable(Self.ref, in: scope)!.content)
    }

    func canonical(_ table: NftTable) async -> Result<NftTable, KernelError> {
        do {
            return .success(try await SimKernel(seed: 1).canonicalize(table, as: Self.ref, in: .current))
        } catch {
            return .failure(error.error)
        }
    }

    @Test("drawn desired tables, some broken (a rule, an element, a jump, a chain name, a set type): same listing or same refusal")
    func sameAsCommitByCommit() async throws {
        var random = SimRandom(seed: 77)
        var refused = 0, listed = 0
        let broken = ["bogus", "tcp dport frob accept", "jump nowhere", "ip saddr @ports accept", "meta l4proto 999 accept", "jump input"]
        for _ in 0..<400 {
            var table = NftablesStateModel.validDesired(using: &random)
            switch random.below(8) {
            case 0 where !table.chains.isEmpty: table.chains[0].rules.insert(random.pick(broken), at: 0)
            case 1 where !table.sets.isEmpty: table.sets[0].elements.append(random.pick(["frob", "10.0.0.300", "::1", "70000"]))
            case 2: table.chains.append(NftChain(random.pick(["1bad", "web", "ok"]), base: nil, rules: ["drop"]))
            case 3 where !table.sets.isEmpty: table.sets[0].type = random.pick(["ipv6_addr", "inet_service", "ipv4_addr"])
            default: break
            }
            let (new, old) = (await canonical(table), try reference(table))
            switch (new, old) {
            case (.success(let a), .success(let b)):
                #expect(a == b, "\(table)")
                listed += 1
            case (.failure(let a), .failure(let b)):
                #expect(a.errno == b.errno && a.message == b.message, "\(table): \(a) vs \(b)")
                refused += 1
            default:
                Issue.record("\(table): \(new) vs \(old)")
            }
        }
        #expect(listed > 100 && refused > 50, "listed \(listed), refused \(refused)")
        for invalid in NftablesStateModel.invalidDesired() {
            guard let table = invalid.desired else { continue }
            let (new, old) = (await canonical(table), try reference(table))
            #expect("\(new)" == "\(old)", "\(invalid.label)")
        }
    }
}
