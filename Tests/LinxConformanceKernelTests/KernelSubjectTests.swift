import LinxConformance
import LinxConformanceKernel
import LinxReconcile
import Testing

/// The built-in Sources on the real kernel, each case in a throwaway network
/// namespace or cgroup that is always removed. Without root every case is
/// skipped by the subjects themselves, and the reason is printed.
@Suite("Built-in Sources on the real kernel (root only)", .serialized)
struct KernelSubjectTests {
    @Test("real kernel", arguments: BuiltinSource.allCases)
    func kernel(_ source: BuiltinSource) async {
        for seed: UInt64 in 0..<2 {
            let results = await source.runOnKernel(options: ConformanceOptions(seed: seed))
            if results.skipped == results.cases.count, case .skipped(let reason)? = results.cases.first?.outcome {
                print("skipped \(results.subject): \(reason)")
                return
            }
            #expect(results.passed > 0)
            for result in results.cases {
                guard case .failed(let failure) = result.outcome else { continue }
                Issue.record("\(result.subject) \(result.testCase.id) seed \(seed)\n\(failure)")
            }
        }
    }
}
