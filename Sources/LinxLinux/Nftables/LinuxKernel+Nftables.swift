import Glibc
import LinxReconcile
import Synchronization
import SystemPackage

/// nf_tables on the real kernel, through libnftables on each namespace's
/// thread (see ``NftContext`` for why libnftables).
///
/// The namespace's libnftables socket lives as long as this `LinuxKernel`
/// (the thread of a namespace whose socket owns a table never ends when
/// idle), so a table made with ``NftTableLifetime/owned`` stays until the
/// kernel object is released or the process exits.
///
/// Compare-and-swap: nft 1.0.6 cannot carry NFNL_BATCH_GENID in its batch,
/// so ``commit(_:expecting:in:)`` reads the generation on its own socket
/// right before nft sends the batch and refuses (ERESTART, nothing sent)
/// when it moved. A writer that commits inside that window (between the
/// check and nft's send, microseconds) is not refused; the next pass sees
/// its change. A transaction of only tables, plain sets and their elements
/// (addresses and ports) is sent as its own batch instead (`NftRawBatch`:
/// no nft parser), which carries the generation: there the kernel itself
/// refuses a stale batch, with no window.
extension LinuxKernel: NftablesBackend {
    public func observeTable(_ table: NftTableRef, in scope: NetnsScope) async throws(KernelError) -> NftObservation {
        try await perform(in: scope) { context throws(KernelError) in
            let nft = try context.nftContext()
            // Read the generation on both sides of the listing; retry until
            // nothing committed in between, so the pair is consistent.
            for _ in 0..<8 {
                let before = try nft.generation()
                if try !nft.tableExists(table) {
                    guard try nft.generation() == before else { continue }
                    return NftObservation(generation: before, table: nil)
                }
                let listing = nft.output(of: "list table \(table)")
                guard try nft.generation() == before else { continue }
                switch listing {
                case .success(let text):
                    do throws(NftListing.Malformed) {
                        return NftObservation(generation: before, table: try NftListing.parse(text, ref: table))
                    } catch {
                        throw KernelError(.ioError, "cannot read nft's listing of table \(table): \(error.line)")
                    }
                case .failure(let error) where error.errno == .noSuchFileOrDirectory:
                    return NftObservation(generation: before, table: nil)
                case .failure(let error):
                    throw error
                }
            }
            throw KernelError(.resourceTemporarilyUnavailable, "the ruleset kept changing while table \(table) was listed")
        }
    }

    public func commit(_ commands: [NftCommand], expecting generation: UInt32, in scope: NetnsScope) async throws(NftTransactionError) -> UInt32 {
        if let refusal = Self.persistRefusal(commands) { throw refusal }
        let result: Result<UInt32, NftTransactionError>
        do {
            result = try await perform(in: scope) { context throws(KernelError) in
                let nft = try context.nftContext()
                let now = try nft.generation()
                guard now == generation else {
                    return .failure(NftTransactionError(error: KernelError(.restart, "generation \(generation) is stale (now \(now))")))
                }
                let failure =
                    if let batch = try NftRawBatch(commands, expecting: generation, lookup: nft.rawBatchLookup) {
                        try nft.send(batch)
                    } else {
                        nft.run(NftScript(commands))
                    }
                if let failure {
                    return .failure(NftTransactionError(index: failure.command, object: failure.command.map { commands[$0].object }, error: failure.error))
                }
                if commands.contains(where: { if case .addTable(_, let flags, _) = $0 { flags.contains(.owner) } else { false } }) {
                    context.pinned = true
                }
                return .success(try nft.generation())
            }
        } catch {
            throw NftTransactionError(error: error)
        }
        return try result.get()
    }

    /// libnftables' dry run (`nft -c`): nft sends the batch and the kernel
    /// checks every command, including loops, then aborts it (checked on
    /// Linux 6.18: see NftablesKernelTests' dry-run test for the refusals
    /// it and a commit meet alike).
    public func checkTransaction(_ commands: [NftCommand], in scope: NetnsScope) async throws(NftTransactionError) -> Bool {
        if let refusal = Self.persistRefusal(commands) { throw refusal }
        let failure: NftTransactionError?
        do {
            failure = try await perform(in: scope) { context throws(KernelError) in
                let nft = try context.nftContext()
                guard let failure = nft.run(NftScript(commands), dryRun: true) else { return nil }
                return NftTransactionError(index: failure.command, object: failure.command.map { commands[$0].object }, error: failure.error)
            }
        } catch {
            throw NftTransactionError(error: error)
        }
        if let failure { throw failure }
        return true
    }

    public func canonicalize(_ table: NftTable, as ref: NftTableRef, in scope: NetnsScope) async throws(NftTransactionError) -> NftTable {
        try await canonicalizeReportingCommits(table, as: ref, in: scope).table
    }

    /// The scratch table's two commits (create, delete) each move the
    /// namespace's generation: reported when the generation read before
    /// and after each moved by exactly one (three GETGENs on the socket).
    public func canonicalizeReportingCommits(_ table: NftTable, as ref: NftTableRef, in scope: NetnsScope)
        async throws(NftTransactionError) -> (table: NftTable, ownCommits: [UInt32])
    {
        // Checked where it will live (iif names resolve against this
        // namespace's links), in a dormant table owned by our socket, so it
        // never filters a packet, nobody else can touch it, and the kernel
        // removes it should we die before deleting it.
        let scratch = NftTableRef(ref.family, "linx-check-\(getpid())-\(scratchCounter.add(1, ordering: .relaxed).newValue)")
        var commands: [NftCommand] = [.addTable(scratch, flags: [.owner, .dormant], comment: nil)]
        var objects = [""]
        for set in table.sets {
            commands.append(.addSet(scratch, set.declaration))
            objects.append("\(set.kind) \(set.name)")
            for element in set.elements {
                commands.append(.addElements(scratch, set: set.name, [element]))
                objects.append("\(set.kind) \(set.name) element \(NftSyntax.quoted(element))")
            }
        }
        for chain in table.chains {
            commands.append(.addChain(scratch, name: chain.name, base: chain.base))
            objects.append("chain \(chain.name)")
        }
        for chain in table.chains {
            for (index, rule) in chain.rules.enumerated() {
                commands.append(.addRule(scratch, chain: chain.name, rule: rule, before: nil))
                objects.append("chain \(chain.name) rule \(index + 1) \(NftSyntax.quoted(rule))")
            }
        }
        let result: Result<(table: NftTable, ownCommits: [UInt32]), NftTransactionError>
        let (script, named) = (NftScript(commands), objects)
        do {
            result = try await perform(in: scope) { context throws(KernelError) in
                let objects = named
                let nft = try context.nftContext()
                let before = try nft.generation()
                if let failure = nft.run(script) {
                    let object = failure.command.flatMap { objects.indices.contains($0) ? objects[$0] : nil }
                    return .failure(NftTransactionError(index: nil, object: object, error: failure.error))
                }
                let created = try? nft.generation()
                let listing = nft.output(of: "list table \(scratch)")
                _ = nft.run(NftScript(lines: ["delete table \(scratch)"]))
                let deleted = try? nft.generation()
                var own: [UInt32] = []
                if let created, created == before &+ 1 { own.append(before) }
                if let created, let deleted, deleted == created &+ 1 { own.append(created) }
                switch listing {
                case .success(let text):
                    do throws(NftListing.Malformed) {
                        return .success((try NftListing.parse(text, ref: scratch).content, own))
                    } catch {
                        throw KernelError(.ioError, "cannot read nft's listing: \(error.line)")
                    }
                case .failure(let error):
                    throw error
                }
            }
        } catch {
            throw NftTransactionError(error: error)
        }
        return try result.get()
    }

    /// nft 1.0.6 has no syntax for NFT_TABLE_F_PERSIST: a transaction that
    /// would set it is refused before anything is sent.
    private static func persistRefusal(_ commands: [NftCommand]) -> NftTransactionError? {
        guard let index = commands.firstIndex(where: { if case .addTable(_, let flags, _) = $0 { flags.contains(.persist) } else { false } })
        else { return nil }
        return NftTransactionError(index: index, object: commands[index].object, error: KernelError(.notSupported, "nft 1.0.6 cannot set NFT_TABLE_F_PERSIST"))
    }

    public func nftEvents(in scope: NetnsScope) async throws(KernelError) -> AsyncThrowingStream<NftEvent, any Error> {
        let buffer = configuration.monitorReceiveBuffer
        let monitor = try await perform(in: scope) { context throws(KernelError) in
            if let entryError = context.entryError { throw entryError }
            return try NftMonitor.open(receiveBuffer: buffer)
        }
        return AsyncThrowingStream(unfolding: { try await monitor.next() })
    }
}

/// Names scratch tables uniquely within the process.
private let scratchCounter = Atomic<Int>(0)

extension NamespaceWorker.Context {
    /// The namespace's nf_tables connection, opened on first use.
    func nftContext() throws(KernelError) -> NftContext {
        if let entryError { throw entryError }
        if let nft { return nft }
        let opened = try NftContext()
        nft = opened
        return opened
    }
}
