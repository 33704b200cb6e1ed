import LinxConformance

/// The built-in Sources on the real kernel. Not built yet: every case is
/// reported skipped with the reason, never passed.
enum KernelSubjects {
    static func run(_ source: BuiltinSource, options: ConformanceOptions) async -> ConformanceResults {
        let cases = ConformanceCase.all.filter { options.filter?.matches(subject: "\(source.rawValue)/kernel", case: $0) ?? true }
        return ConformanceResults(
            subject: "\(source.rawValue)/kernel", seed: options.seed,
            cases: cases.map {
                CaseResult(
                    subject: "\(source.rawValue)/kernel", testCase: $0,
                    outcome: .skipped("real-kernel subjects are not in this build yet"), duration: .zero,
                    seed: Conformance.caseSeed(run: options.seed, case: $0), runSeed: options.seed)
            })
    }
}
