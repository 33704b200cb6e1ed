import LinxKernelSim
import LinxReconcile
import SystemPackage
import Testing

/// Which command a batch with several failing commands is refused at, and
/// with which errno: each case as nft 1.0.6 and Linux 6.18 answered it in a
/// throwaway namespace (`nft -f`, the earliest line nft reports; the same
/// batches run on the kernel in the nf_tables differential).
@Suite("simulated nf_tables: the command a multi-failure batch is refused at")
struct NftBlameOrderTests {
    let t = NftTableRef(.inet, "t")
    let input = NftBaseChain(type: .filter, hook: .input, priority: 0, policy: .accept)

    /// Table t: base chain a, regular chains b (one rule) and c, set s of IPv4 addresses.
    func kernel() async throws -> (SimKernel, handle: UInt64) {
        let kernel = SimKernel(seed: 1)
        _ = try await kernel.commit([
            .addTable(t, flags: [], comment: nil), .addChain(t, name: "a", base: input), .addChain(t, name: "b", base: nil),
            .addChain(t, name: "c", base: nil), .addSet(t, NftSet("s", type: "ipv4_addr")),
            .addRule(t, chain: "b", rule: "tcp dport 22 accept", before: nil),
        ], expecting: kernel.nftGeneration()!, in: .current)
        return (kernel, try #require(kernel.nftTable(t)?.chains.first { $0.name == "b" }?.rules.first?.handle))
    }

    /// The refused command (1-based) and errno of `commands`, nothing changed.
    func refusal(_ kernel: SimKernel, _ commands: [NftCommand]) async -> String {
        let before = kernel.nftTable(t)
        do {
            _ = try await kernel.commit(commands, expecting: kernel.nftGeneration()!, in: .current)
            return "committed"
        } catch {
            #expect(kernel.nftTable(t) == before, "a refused batch changes nothing")
            return "\(error.error.errno.symbolicName) at \(error.index.map { $0 + 1 } ?? 0)"
        }
    }

    var missingChain: NftCommand { .deleteChain(t, name: "nosuch") }

    @Test("nft's own refusals win over the kernel's, even at a later command")
    func userspaceFirst() async throws {
        let (kernel, _) = try await kernel()
        // Parse errors, element types, a set missing from nft's cache (also
        // one the batch deleted), a table missing for add chain / add set.
        #expect(await refusal(kernel, [missingChain, .addRule(t, chain: "b", rule: "tcp dport frob accept", before: nil)]) == "EINVAL at 2")
        #expect(await refusal(kernel, [missingChain, .addElements(t, set: "nos", ["10.0.0.1"])]) == "ENOENT at 2")
        #expect(await refusal(kernel, [missingChain, .deleteElements(t, set: "nos", ["10.0.0.1"])]) == "ENOENT at 2")
        #expect(await refusal(kernel, [missingChain, .addRule(t, chain: "b", rule: "ip saddr @nos drop", before: nil)]) == "ENOENT at 2")
        #expect(await refusal(kernel, [.deleteSet(t, name: "s"), .addElements(t, set: "s", ["10.0.0.1"])]) == "ENOENT at 2")
        #expect(await refusal(kernel, [.deleteTable(t), .addChain(t, name: "b", base: nil)]) == "ENOENT at 2")
        let u = NftTableRef(.inet, "u")
        #expect(await refusal(kernel, [missingChain, .addChain(u, name: "a", base: nil)]) == "ENOENT at 2")
        #expect(await refusal(kernel, [missingChain, .addSet(u, NftSet("s", type: "ipv4_addr"))]) == "ENOENT at 2")
        #expect(await refusal(kernel, [missingChain, .addSet(t, NftSet("s3", type: "frob"))]) == "EINVAL at 2")
        #expect(await refusal(kernel, [missingChain, .addRule(t, chain: "b", rule: "tcp dport @s drop", before: nil)]) == "EINVAL at 2")
        // Two of nft's own: the earliest.
        #expect(await refusal(kernel, [
            .addRule(t, chain: "b", rule: "tcp dport frob accept", before: nil), .addRule(t, chain: "b", rule: "tcp dport frab accept", before: nil),
        ]) == "EINVAL at 1")
    }

    @Test("the kernel's per-command refusals: the earliest")
    func kernelEarliest() async throws {
        let (kernel, handle) = try await kernel()
        #expect(await refusal(kernel, [missingChain, .deleteSet(t, name: "nosuch")]) == "ENOENT at 1")
        #expect(await refusal(kernel, [.deleteRule(t, chain: "b", handle: 999), missingChain]) == "ENOENT at 1")
        #expect(await refusal(kernel, [missingChain, .addRule(t, chain: "zz", rule: "accept", before: nil)]) == "ENOENT at 1")
        #expect(await refusal(kernel, [missingChain, .addRule(t, chain: "a", rule: "jump nowhere", before: nil)]) == "ENOENT at 1")
        #expect(await refusal(kernel, [missingChain, .deleteElements(t, set: "s", ["10.0.0.9"])]) == "ENOENT at 1")
        #expect(await refusal(kernel, [missingChain, .addChain(t, name: "a", base: NftBaseChain(type: .filter, hook: .output))]) == "ENOENT at 1")
        // A jump to a base chain is EOPNOTSUPP.
        #expect(await refusal(kernel, [.addRule(t, chain: "b", rule: "jump a", before: nil)]) == "EOPNOTSUPP at 1")
        // A re-declared set keeps its cached type in nft: the kernel refuses the re-declaration.
        #expect(await refusal(kernel, [.addSet(t, NftSet("s", type: "inet_service")), .addElements(t, set: "s", ["10.0.0.1"])]) == "EEXIST at 1")
        #expect(await refusal(kernel, [.addSet(t, NftSet("s", type: "inet_service")), .addRule(t, chain: "b", rule: "ip saddr @s drop", before: nil)]) == "EEXIST at 1")
        _ = handle
    }

    @Test("an insert at a position loads nft's rule cache: then every rule's chain is nft's to check")
    func ruleCache() async throws {
        let (kernel, handle) = try await kernel()
        let insert = NftCommand.addRule(t, chain: "b", rule: "accept", before: handle)
        #expect(await refusal(kernel, [missingChain, .addRule(t, chain: "zz", rule: "accept", before: nil), insert]) == "ENOENT at 2")
        #expect(await refusal(kernel, [missingChain, .deleteChain(t, name: "c"), .addRule(t, chain: "c", rule: "accept", before: nil), insert]) == "ENOENT at 3")
        #expect(await refusal(kernel, [missingChain, .addRule(t, chain: "b", rule: "accept", before: 999)]) == "ENOENT at 2")
        #expect(await refusal(kernel, [missingChain, .addRule(t, chain: "c", rule: "accept", before: handle)]) == "ENOENT at 2")
        #expect(await refusal(kernel, [missingChain, .deleteChain(t, name: "b"), .addChain(t, name: "b", base: nil), insert]) == "ENOENT at 4")
        // nft does not follow the batch's rule deletions; the kernel inserts
        // before the deleted rule, which is then gone.
        #expect(await refusal(kernel, [missingChain, .deleteRule(t, chain: "b", handle: handle), insert]) == "ENOENT at 1")
        _ = try await kernel.commit([.deleteRule(t, chain: "b", handle: handle), .addRule(t, chain: "b", rule: "udp dport 53 accept", before: handle)],
            expecting: kernel.nftGeneration()!, in: .current)
        #expect(kernel.nftTable(t)?.chains.first { $0.name == "b" }?.rules.map(\.text) == ["udp dport 53 accept"])
    }

    @Test("a loop is found at commit, only when no command was refused: at the command that closes it")
    func loopsLast() async throws {
        let (kernel, _) = try await kernel()
        _ = try await kernel.commit([.addRule(t, chain: "a", rule: "jump b", before: nil)], expecting: kernel.nftGeneration()!, in: .current)
        let b = NftCommand.addRule(t, chain: "b", rule: "jump c", before: nil)
        let c = NftCommand.addRule(t, chain: "c", rule: "jump b", before: nil)
        let emlink = Errno.tooManyLinks.symbolicName
        #expect(await refusal(kernel, [b, c]) == "\(emlink) at 2")
        #expect(await refusal(kernel, [b, c, missingChain]) == "ENOENT at 3")
        #expect(await refusal(kernel, [missingChain, b, c]) == "ENOENT at 1")
        #expect(await refusal(kernel, [b, c, .addRule(t, chain: "a", rule: "jump a", before: nil)]) == "EOPNOTSUPP at 3")
        #expect(await refusal(kernel, [b, c, .addElements(t, set: "s", ["10.0.0.1"]), c]) == "\(emlink) at 2")
    }
}
