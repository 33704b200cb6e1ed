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
/// its change.
extension LinuxKernel: NftablesBackend {
    public func observeTable(_ table: NftTableRef, in scope: NetnsScope) async throws(KernelError) -> NftObservation {
        try await perform(in: scope) { context throws(KernelError) in
            let nft = try context.nftContext()
            // Read the generation on both sides of the listing; retry until
            // nothing committed in between, so the pair is consistent.
            for _ in 0..<8 {
                let before = try nft.generation()
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
        for (index, command) in commands.enumerated() {
            if case .addTable(_, let flags, _) = command, flags.contains(.persist) {
                throw NftTransactionError(
                    index: index, object: command.object,
                    error: KernelError(.notSupported, "nft 1.0.6 cannot set NFT_TABLE_F_PERSIST"))
            }
        }
        let result: Result<UInt32, NftTransactionError>
        do {
            result = try await perform(in: scope) { context throws(KernelError) in
                let nft = try context.nftContext()
                let now = try nft.generation()
                guard now == generation else {
                    return .failure(NftTransactionError(error: KernelError(.restart, "generation \(generation) is stale (now \(now))")))
                }
                if let failure = nft.run(commands.map(\.description)) {
                    let index = failure.line.flatMap { commands.indices.contains($0) ? $0 : nil }
                    return .failure(NftTransactionError(index: index, object: index.map { commands[$0].object }, error: failure.error))
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

    public func canonicalize(_ table: NftTable, as ref: NftTableRef, in scope: NetnsScope) async throws(NftTransactionError) -> NftTable {
        // Checked where it will live (iif names resolve against this
        // namespace's links), in a dormant table owned by our socket, so it
        // never filters a packet, nobody else can touch it, and the kernel
        // removes it should we die before deleting it.
        let scratch = NftTableRef(ref.family, "linx-check-\(getpid())-\(scratchCounter.add(1, ordering: .relaxed).newValue)")
        var lines = ["add table \(scratch) { flags owner; flags dormant; }"]
        var objects = [""]
        for set in table.sets {
            lines.append(NftCommand.addSet(scratch, set.declaration).description)
            objects.append("\(set.kind) \(set.name)")
            for element in set.elements {
                lines.append(NftCommand.addElements(scratch, set: set.name, [element]).description)
                objects.append("\(set.kind) \(set.name) element \(NftSyntax.quoted(element))")
            }
        }
        for chain in table.chains {
            lines.append(NftCommand.addChain(scratch, name: chain.name, base: chain.base).description)
            objects.append("chain \(chain.name)")
        }
        for chain in table.chains {
            for (index, rule) in chain.rules.enumerated() {
                lines.append(NftCommand.addRule(scratch, chain: chain.name, rule: rule, before: nil).description)
                objects.append("chain \(chain.name) rule \(index + 1) \(NftSyntax.quoted(rule))")
            }
        }
        let result: Result<NftTable, NftTransactionError>
        let (script, named) = (lines, objects)
        do {
            result = try await perform(in: scope) { context throws(KernelError) in
                let (lines, objects) = (script, named)
                let nft = try context.nftContext()
                if let failure = nft.run(lines) {
                    let object = failure.line.flatMap { objects.indices.contains($0) ? objects[$0] : nil }
                    return .failure(NftTransactionError(index: nil, object: object, error: failure.error))
                }
                defer { _ = nft.run(["delete table \(scratch)"]) }
                switch nft.output(of: "list table \(scratch)") {
                case .success(let text):
                    do throws(NftListing.Malformed) {
                        return .success(try NftListing.parse(text, ref: scratch).content)
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
