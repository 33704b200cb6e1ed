import Synchronization

/// The commits a reconciler made itself, per namespace, so that its own
/// commit of one table is not taken for another writer's by the next one.
///
/// The generation is namespace-wide. With several tables in one namespace
/// (a ``ReconcileGroup``, a host document, one loop per table), every
/// table's plan is made at the generation observed before the first
/// table's commit moved it, and the kernel would refuse each later commit
/// once (ERESTART) although no one else wrote: a retry, a re-observation
/// and a re-plan per table, and a report claiming a race that never was.
///
/// A commit that moved the generation by exactly one (from `g` to `g + 1`)
/// was ours alone, and it touched one table only: an observation of any
/// other table made at `g` is still exact at `g + 1`. So a plan made at `g`
/// may carry `g + 1`, and so on along a chain of our own commits; a commit
/// by anyone else breaks the chain, and the kernel refuses the plan as
/// before. Learning the new generation from our own commit costs no round
/// trip (re-reading the generation before each commit would cost one per
/// table and still could not tell our commit from another writer's).
///
/// Our commits in one namespace take turns (``commit(in:_:)``): a commit
/// is recorded before the next one picks its generation, so passes of
/// several tables running at once (one loop per table) never meet their
/// own commits either.
///
/// A backend's own scratch commits (``NftablesBackend/canonicalizeReportingCommits(_:as:in:)``)
/// are links of the chain too; they touch a scratch table, not ours.
final class NftOwnCommits: Sendable {
    /// One commit of ours: from `from` to `from + 1`, touching `table` (nil:
    /// a backend's scratch table, which no plan is made for).
    private struct Commit {
        var from: UInt32
        var table: NftTableRef?
    }

    /// How many commits a namespace keeps: a pass of N tables needs N.
    static let limit = 64

    private let commits = Mutex<[NetnsScope: [Commit]]>([:])

    /// The namespaces where a commit of ours is under way, with who waits.
    private let turns = Mutex<[NetnsScope: [CheckedContinuation<Void, Never>]]>([:])

    /// Runs `body` (pick the generation, commit, record) when no other
    /// commit of ours in `netns` is under way; in arrival order.
    func commit<Result>(in netns: NetnsScope, _ body: () async -> Result) async -> Result {
        await withCheckedContinuation { (turn: CheckedContinuation<Void, Never>) in
            let now = turns.withLock { turns -> Bool in
                guard turns[netns] != nil else {
                    turns[netns] = []
                    return true
                }
                turns[netns]!.append(turn)
                return false
            }
            if now { turn.resume() }
        }
        let result = await body()
        let next = turns.withLock { turns -> CheckedContinuation<Void, Never>? in
            guard var waiting = turns[netns], !waiting.isEmpty else {
                turns[netns] = nil
                return nil
            }
            let next = waiting.removeFirst()
            turns[netns] = waiting
            return next
        }
        next?.resume()
        return result
    }

    /// Notes that our commit touching `table` took `netns` from `expected`
    /// to `after`; only a move by exactly one is known to be ours alone.
    func record(from expected: UInt32, to after: UInt32, table: NftTableRef?, in netns: NetnsScope) {
        guard after == expected &+ 1 else { return }
        commits.withLock { commits in
            var list = commits[netns, default: []]
            list.removeAll { $0.from == expected }
            list.append(Commit(from: expected, table: table))
            if list.count > Self.limit { list.removeFirst(list.count - Self.limit) }
            commits[netns] = list
        }
    }

    /// The generation an observation of `table` made at `observed` is
    /// still exact at, as far as our own commits tell: `observed` moved on
    /// along our commits of other tables, stopping at one of `table`
    /// itself (which made the observation stale) or at a generation we did
    /// not move from.
    func current(from observed: UInt32, for table: NftTableRef, in netns: NetnsScope) -> UInt32 {
        commits.withLock { commits in
            guard let list = commits[netns] else { return observed }
            var generation = observed
            for _ in 0..<list.count {
                guard let next = list.last(where: { $0.from == generation }), next.table != table else { break }
                generation = generation &+ 1
            }
            return generation
        }
    }
}
