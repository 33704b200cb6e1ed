import LinxReconcile

/// The cases about `subscribe`: either it says unsupported, or its hints
/// arrive when something changed and when events were lost.
extension CaseRun {
    /// A foreign change yields a hint within `options.hintTimeout`.
    func changeYieldsHint() async throws {
        try await expectHint("a foreign change", matching: { _ in true }) {
            try await subject.triggerChange(in: sandbox)
        }
    }

    /// Lost events (ENOBUFS) yield `.resyncNeeded` within `options.hintTimeout`.
    func overflowYieldsResync() async throws {
        try await expectHint("lost events", matching: { $0 == .resyncNeeded }) {
            try await subject.triggerOverflow(in: sandbox)
        }
    }

    private func expectHint(
        _ what: String, matching wanted: @escaping @Sendable (ReconcileHint) -> Bool,
        trigger: () async throws -> Void
    ) async throws {
        let subscription: HintSubscription
        do {
            subscription = try await source.subscribe(scope: scope)
        } catch {
            throw CaseFailure("subscribe failed: \(error)")
        }
        guard case .hints(let stream) = subscription else {
            throw CaseFailure(
                "\(subject.name) declares monitor triggers, but its Source's subscribe says unsupported (timer-only); a timer-only Source's subject declares neither monitorTriggers nor overflowTrigger")
        }
        do {
            try await trigger()
        } catch let skip as ConformanceSkip {
            throw skip
        } catch {
            throw CaseFailure("the subject could not provoke \(what): \(error)")
        }
        let timeout = options.hintTimeout
        let outcome: HintWait = await withTaskGroup(of: HintWait.self) { group in
            group.addTask {
                do {
                    for try await hint in stream where wanted(hint) { return .received(hint) }
                    return .ended(nil)
                } catch {
                    return .ended("\(error)")
                }
            }
            group.addTask {
                // A bound on failure only: a conforming Source answers long before it.
                try? await Task.sleep(for: timeout)
                return .timedOut
            }
            let first = await group.next() ?? .timedOut
            group.cancelAll()
            return first
        }
        switch outcome {
        case .received:
            return
        case .timedOut:
            throw CaseFailure("no matching hint within \(timeout) after \(what)")
        case .ended(let error):
            throw CaseFailure("the hint stream ended after \(what) without a matching hint\(error.map { ": \($0)" } ?? "")")
        }
    }
}

/// How waiting for a hint ended.
enum HintWait: Sendable {
    case received(ReconcileHint)
    case ended(String?)
    case timedOut
}
