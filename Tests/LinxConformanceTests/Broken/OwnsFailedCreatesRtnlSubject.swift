import LinxConformance
import LinxKernelSim
import LinxReconcile

/// Records every address it tried to add in lastApplied, also one the
/// kernel refused: its reports are honest, its ownership is not (a later
/// release would delete an address someone else put there). Only a subject
/// that reads rtnl's ownership (``RtnlStateModel/ownedEntries(in:scope:options:)``)
/// can tell.
struct OwnsFailedCreatesRtnlSource: ReconcileSource {
    let honest: RtnlSource

    func reconcile(
        scope: NetnsScope, desired: RtnlDesiredState, lastApplied: RtnlLastApplied, options: RtnlOptions
    ) async throws(ReconcileError) -> ReconcileReport<RtnlObject, RtnlLastApplied> {
        var report = try await honest.reconcile(scope: scope, desired: desired, lastApplied: lastApplied, options: options)
        for failed in report.failed {
            guard case .create(.address(let address)) = failed.op, let name = address.interfaceName else { continue }
            report.lastApplied.addresses.insert(
                .init(interface: name, address: address.address, prefixLength: address.prefixLength))
        }
        return report
    }

    func observe(scope: NetnsScope, options: RtnlOptions) async throws(ReconcileError) -> RtnlObserved {
        try await honest.observe(scope: scope, options: options)
    }
}

/// The rtnl simulator subject with the broken Source in place of the real one.
func ownsFailedCreatesRtnlSubject() -> SwappedSourceSubject<RtnlSimSubject, OwnsFailedCreatesRtnlSource> {
    SwappedSourceSubject(base: RtnlSimSubject(), name: "owns-failed-creates-rtnl/sim") {
        OwnsFailedCreatesRtnlSource(honest: $0)
    }
}
