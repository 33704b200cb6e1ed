@testable import LinxReconcile
import Testing

/// `hookProblem` decides with switches; checked against the set-based
/// rule it replaced on every family, hook and chain type.
@Suite("nftables: hook problems by switch")
struct NftHookProblemTests {
    /// The rule as it was written with sets (the reference).
    static func reference(_ base: NftBaseChain, family: NftFamily) -> String? {
        let hooks: Set<NftHook>
        switch family {
        case .ip, .ip6, .inet: hooks = family == .inet ? [.prerouting, .input, .forward, .output, .postrouting, .ingress] : [.prerouting, .input, .forward, .output, .postrouting]
        case .arp: hooks = [.input, .output]
        case .bridge: hooks = [.prerouting, .input, .forward, .output, .postrouting]
        case .netdev: return "netdev base chains need a device, which Linx does not model"
        }
        guard hooks.contains(base.hook) else { return "family \(family) has no hook \(base.hook)" }
        switch base.type {
        case .filter: return nil
        case .nat:
            guard [.ip, .ip6, .inet].contains(family), [.prerouting, .input, .output, .postrouting].contains(base.hook) else {
                return "a nat chain hooks prerouting, input, output or postrouting of an ip, ip6 or inet table"
            }
        case .route:
            guard [.ip, .ip6, .inet].contains(family), base.hook == .output else {
                return "a route chain hooks output of an ip, ip6 or inet table"
            }
        }
        return nil
    }

    @Test("every family, hook and type: the same answer")
    func sameAsSets() {
        var allowed = 0
        for family in NftFamily.allCases {
            for hook in NftHook.allCases {
                for type in NftChainType.allCases {
                    let base = NftBaseChain(type: type, hook: hook)
                    let answer = NftablesReconciler.hookProblem(base, family: family)
                    #expect(answer == Self.reference(base, family: family), "\(family) \(hook) \(type)")
                    if answer == nil { allowed += 1 }
                }
            }
        }
        #expect(allowed > 20)
    }
}
