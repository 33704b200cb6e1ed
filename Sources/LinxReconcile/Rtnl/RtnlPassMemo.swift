import Synchronization

/// What a pass read from the kernel, before interface names are filled in:
/// the form two passes are compared in.
struct RtnlRawObservation: Sendable, Equatable {
    var links: [Link]
    var addresses: [InterfaceAddress]
    var routes: [Route]
}

/// Remembers the last pass's inputs and results, so a pass over an
/// unchanged namespace and an unchanged desired state costs about one dump.
///
/// Planning is a pure function of (observation, desired state, lastApplied,
/// options): when all of them equal the last pass's, the last plan is the
/// answer. When only the observation changed (drift), the resolved desired
/// state and its index are reused and only the diff runs. Equality checks
/// are linear in the worst case and O(1) when the caller passes the same
/// desired value again (arrays compare by identity first).
final class RtnlPassMemo: Sendable {
    private struct Resolution: Sendable {
        var desired: RtnlDesiredState
        var options: RtnlOptions
        var links: [Link]
        var resolved: RtnlResolvedState
        var index: RtnlDesiredIndex
    }

    private struct Planned: Sendable {
        var scope: NetnsScope
        var options: RtnlOptions
        var desired: RtnlDesiredState
        var lastApplied: RtnlLastApplied
        var raw: RtnlRawObservation
        var plan: RtnlPlan
    }

    private struct Memo: Sendable {
        var resolution: Resolution?
        var planned: Planned?
    }

    private let state: Mutex<Memo>

    /// An empty memo.
    init() {
        state = Mutex(Memo())
    }

    /// The plan made last time for exactly these inputs.
    func plan(
        scope: NetnsScope, options: RtnlOptions, desired: RtnlDesiredState,
        lastApplied: RtnlLastApplied, raw: RtnlRawObservation
    ) -> RtnlPlan? {
        state.withLock { memo in
            guard let last = memo.planned, last.scope == scope, last.options == options,
                last.raw.routes.count == raw.routes.count, last.raw.addresses.count == raw.addresses.count,
                last.desired == desired, last.lastApplied == lastApplied, last.raw == raw
            else { return nil }
            // Keep the caller's values: passing them again then compares by
            // identity (the loop threads the same lastApplied back).
            var kept = last
            kept.lastApplied = lastApplied
            kept.desired = desired
            memo.planned = kept
            return last.plan
        }
    }

    /// The desired state resolved last time, against these links: as it
    /// was when the links are the same, re-bound to their indices when
    /// only those changed (see ``RtnlNormalizer/rebound(_:index:to:)``).
    func resolution(
        desired: RtnlDesiredState, options: RtnlOptions, links: [Link]
    ) -> (RtnlResolvedState, RtnlDesiredIndex)? {
        state.withLock { memo in
            guard let last = memo.resolution, last.options == options, last.desired == desired else { return nil }
            if last.links == links { return (last.resolved, last.index) }
            guard let rebound = RtnlNormalizer.rebound(last.resolved, index: last.index, to: links) else { return nil }
            memo.resolution = Resolution(
                desired: desired, options: options, links: links, resolved: rebound.resolved, index: rebound.index)
            return rebound
        }
    }

    /// Records a resolution.
    func remember(
        desired: RtnlDesiredState, options: RtnlOptions, links: [Link],
        resolved: RtnlResolvedState, index: RtnlDesiredIndex
    ) {
        state.withLock { memo in
            memo.resolution = Resolution(desired: desired, options: options, links: links, resolved: resolved, index: index)
        }
    }

    /// Records a plan and the inputs it was made from.
    func remember(
        plan: RtnlPlan, scope: NetnsScope, options: RtnlOptions, desired: RtnlDesiredState,
        lastApplied: RtnlLastApplied, raw: RtnlRawObservation
    ) {
        state.withLock { memo in
            memo.planned = Planned(
                scope: scope, options: options, desired: desired, lastApplied: lastApplied, raw: raw, plan: plan)
        }
    }
}
