import LinxReconcile
import SystemPackage

/// What nft refuses itself, before the kernel sees the batch.
///
/// nft 1.0.6 parses and evaluates the whole batch first, against its cache
/// of the ruleset (the kernel's tables, chains, rules and sets as they were
/// when the batch began, changed by the batch's own table, chain and set
/// commands, but not by its rule deletions), and reports every refusal it
/// finds; the batch then never reaches the kernel. So any such refusal
/// wins over every refusal the kernel would make, at an earlier command or
/// not, and among them the earliest command's is the one a caller naming
/// the first failing line names (``LinuxKernel``'s backend does).
///
/// Observed on Linux 6.18 with nft 1.0.6 in a throwaway namespace, each
/// case a batch with a kernel refusal (`delete chain` of a missing chain)
/// before it: nft alone reports the command, with the errno shown:
/// - a rule it cannot parse, an unknown service or protocol, an element not
///   of its set's type, a set of an unknown type, an invalid name, an
///   `iif`/`oif` name no link of the namespace has (EINVAL: see
///   ``SimNftSyntax/ifindex(_:in:)``);
/// - `add chain`, `add set`, `add element`, `delete element` in a table
///   missing from its cache, including one the batch deleted (ENOENT);
/// - `add element`, `delete element`, or a rule using `@set`, when the set
///   is missing from its cache (ENOENT), and a rule matching a set of
///   another type (EINVAL); a set re-declared with another type keeps the
///   cached type for the batch's elements (the kernel then refuses the
///   re-declaration: EEXIST);
/// - `insert rule ... position H` when the table, the chain or rule H of
///   that chain is missing from its cache (ENOENT); a chain deleted and
///   re-added by the batch holds no rules there, but a rule the batch
///   deleted is still there (and the kernel inserts before it); and such
///   an insert anywhere in the batch loads nft's rule cache, after which
///   EVERY rule of the batch whose table or chain is missing from the
///   cache is refused by nft (ENOENT), after the rule's own statements
///   (a missing or mistyped set is reported first).
/// The kernel decides (nft sends the batch): `add rule` to a missing table
/// or chain (without such an insert in the batch), `jump` to a missing
/// chain or a base chain, every `delete` of a
/// table, chain, set or rule, a missing element, set re-typed, hook changed.
extension SimNftables {
    /// nft's cache of one table during a batch.
    private struct CachedTable {
        /// Chains by name: true for the kernel's chain as the batch found
        /// it (its rules are the ones nft knows), false for one the batch
        /// made (nft knows no rule in it).
        var chains: [String: Bool]
        var sets: [String: NftSet]
    }

    /// Returns each rule it checked, by command index, for the kernel's half
    /// of the commit: parsed (a function of the rule and the family, so
    /// remembered by ``SimNftSyntax/parse(_:family:)``) and its `iif`/`oif`
    /// operands resolved against `links`, the namespace's (never
    /// remembered: they are another namespace's, or change, next time).
    func userspaceCheck(_ commands: [NftCommand], links: LinkNames) throws(NftTransactionError) -> [CheckedRule?] {
        var parsedRules = [CheckedRule?](repeating: nil, count: commands.count)
        // Loaded from the kernel's state on first use; nil: not in the cache.
        var cache: [NftTableRef: CachedTable?] = [:]
        let ruleCache = commands.contains { if case .addRule(_, _, _, let before) = $0 { before != nil } else { false } }
        func cached(_ ref: NftTableRef) -> CachedTable? {
            if let entry = cache[ref] { return entry }
            let loaded = table(ref).map { table in
                CachedTable(
                    chains: Dictionary(table.chains.map { ($0.name, true) }, uniquingKeysWith: { a, _ in a }),
                    sets: Dictionary(table.sets.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }))
            }
            cache[ref] = .some(loaded)
            return loaded
        }
        for (index, command) in commands.enumerated() {
            let ref = command.table
            func refuse(_ errno: Errno, _ message: String) -> NftTransactionError {
                NftTransactionError(index: index, object: command.object, error: KernelError(errno, message))
            }
            let missing = "No such file or directory"
            var table = cached(ref)
            var refusal: NftTransactionError?
            switch command {
            case .addTable:
                if !SimNftSyntax.isName(ref.name) { refusal = refuse(.invalidArgument, "syntax error, unexpected string") }
                if table == nil { table = CachedTable(chains: [:], sets: [:]) }
            case .deleteTable:
                table = nil
            case .addChain(_, let name, _):
                if table == nil {
                    refusal = refuse(.noSuchFileOrDirectory, missing)
                } else if !SimNftSyntax.isName(name) {
                    refusal = refuse(.invalidArgument, "syntax error, unexpected string")
                } else if table!.chains[name] == nil {
                    table!.chains[name] = false
                }
            case .deleteChain(_, let name):
                table?.chains[name] = nil
            case .addRule(_, let chain, let rule, let before):
                do {
                    let parsed = try SimNftSyntax.parse(rule, family: ref.family)
                    let ifindices = parsed.interfaces.isEmpty ? [] : try SimNftSyntax.resolve(parsed, in: links.indices)
                    parsedRules[index] = CheckedRule(parsed: parsed, ifindices: ifindices)
                } catch {
                    refusal = refuse(.invalidArgument, error.message)
                    break
                }
                // A set used where a value of another type is matched (`ip saddr @ports`).
                if rule.utf8.contains(UInt8(ascii: "@")) {
                    let words = rule.split(separator: " ").map(String.init)
                    for (i, word) in words.enumerated() where word.hasPrefix("@") {
                        guard let set = table?.sets[String(word.dropFirst())] else {
                            refusal = refuse(.noSuchFileOrDirectory, missing)
                            break
                        }
                        guard i >= 2 else { continue }
                        let wanted: String? = switch (words[i - 2], words[i - 1]) {
                        case ("ip", "saddr"), ("ip", "daddr"): "ipv4_addr"
                        case ("ip6", "saddr"), ("ip6", "daddr"): "ipv6_addr"
                        case (_, "sport"), (_, "dport"): "inet_service"
                        default: nil
                        }
                        if let wanted, set.type != wanted {
                            refusal = refuse(.invalidArgument, "datatype mismatch, expected \(wanted), set has type \(set.type)")
                            break
                        }
                    }
                    if refusal != nil { break }
                }
                // With its rule cache (loaded for the whole batch when any
                // rule is inserted at a position), nft checks every rule's
                // table and chain itself, after the rule's statements.
                guard ruleCache else { break }
                guard let known = table?.chains[chain] else {
                    refusal = refuse(.noSuchFileOrDirectory, missing)
                    break
                }
                if let before, !known || self.table(ref)?.chains.first(where: { $0.name == chain })?.rules.contains(where: { $0.handle == before }) != true {
                    refusal = refuse(.noSuchFileOrDirectory, "Could not process rule: \(missing)")
                }
            case .deleteRule:
                break
            case .addSet(_, let set):
                if table == nil {
                    refusal = refuse(.noSuchFileOrDirectory, missing)
                } else if !SimNftSyntax.isName(set.name) {
                    refusal = refuse(.invalidArgument, "syntax error, unexpected string")
                } else if SimNftSyntax.ValueKind(setType: set.type) == .word, !["ether_addr", "mark"].contains(set.type) {
                    refusal = refuse(.invalidArgument, "unknown datatype \(set.type)")
                } else if table!.sets[set.name] == nil {
                    table!.sets[set.name] = set
                }
            case .deleteSet(_, let name):
                table?.sets[name] = nil
            case .addElements(_, let name, let elements), .deleteElements(_, let name, let elements):
                guard let set = table?.sets[name] else {
                    refusal = refuse(.noSuchFileOrDirectory, missing)
                    break
                }
                for element in elements {
                    do { _ = try SimNftSyntax.element(element, type: set.type, isMap: set.dataType != nil) } catch {
                        refusal = refuse(.invalidArgument, error.message)
                        break
                    }
                }
            }
            // nft reports every refusal; the earliest command's is named.
            if let refusal { throw refusal }
            cache[ref] = .some(table)
        }
        return parsedRules
    }
}
