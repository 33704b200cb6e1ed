/// What happened in one fuzz scenario, pass by pass: enough to understand a
/// failure without reading the fuzzer.
///
/// Each pass says what the desired state was (in full on the first pass,
/// then what changed in it), the events before it (drift, reboot), the
/// faults that fired during it, every op the Source reported with its
/// result or errno, the report's verdict, and the ownership record it
/// returned. A failing scenario ends with the broken promise and the
/// difference between what was expected and what the scope holds, key by
/// key. `description` renders it for people, `Codable` for tools
/// (`linx fuzz --trace-json`).
public struct FuzzTrace: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The subject's name (`sysctl/sim`).
    public var subject: String
    /// The scenario's text form, as `--scenario` takes it.
    public var scenario: String
    /// Quiet-phase passes allowed.
    public var maxPasses: Int
    /// Every pass, in order.
    public var passes: [Pass]
    /// Why the scenario failed; nil when it passed.
    public var failure: Failure?

    /// A trace of `scenario` with no pass yet.
    public init(subject: String, scenario: String, maxPasses: Int) {
        self.subject = subject
        self.scenario = scenario
        self.maxPasses = maxPasses
        self.passes = []
    }

    /// One reconcile pass.
    public struct Pass: Sendable, Hashable, Codable {
        /// `fault pass 3`, `quiet pass 1`, `after convergence`.
        public var step: String
        /// The desired state as the entries the scope should hold (the
        /// subject's `expectedEntries`), on the first pass only.
        public var desired: [Entry]?
        /// What changed in the desired state since the previous pass:
        /// `+key = value`, `-key`, `~key: old -> new`.
        public var desiredChanges: [String]
        /// What happened to the scope before the pass: drift, reboot.
        public var events: [String]
        /// Faults that fired during the pass (the sandbox's fault log, or
        /// counts by kind when it keeps none).
        public var faults: [String]
        /// Every op the report lists, with its result.
        public var ops: [Op]
        /// The report's verdict; nil when the pass threw.
        public var report: Verdict?
        /// The error the pass threw instead of reporting.
        public var threw: String?
        /// The ownership record the pass returned (the previous one when it threw).
        public var lastApplied: [String]

        /// An empty pass named `step`.
        public init(step: String) {
            self.step = step
            self.desiredChanges = []
            self.events = []
            self.faults = []
            self.ops = []
            self.lastApplied = []
        }
    }

    /// One key and its value.
    public struct Entry: Sendable, Hashable, Codable {
        /// The key, as the subject's snapshots print it.
        public var key: String
        /// The value.
        public var value: String

        /// A key and its value.
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    /// One op of a report.
    public struct Op: Sendable, Hashable, Codable {
        /// `applied`, `failed` or `pending`.
        public var result: String
        /// The op: `+` create, `~` update, `-` delete, then the item.
        public var op: String
        /// For a failed op, the kernel's error (errno and text).
        public var error: String?

        /// An op and its result.
        public init(result: String, op: String, error: String? = nil) {
            self.result = result
            self.op = op
            self.error = error
        }
    }

    /// What a report concluded.
    public struct Verdict: Sendable, Hashable, Codable {
        /// The report's `converged`.
        public var converged: Bool
        /// Ops applied, failed, pending.
        public var applied: Int, failed: Int, pending: Int

        /// A verdict.
        public init(converged: Bool, applied: Int, failed: Int, pending: Int) {
            self.converged = converged
            self.applied = applied
            self.failed = failed
            self.pending = pending
        }
    }

    /// Why the scenario failed.
    public struct Failure: Sendable, Hashable, Codable {
        /// The pass (or phase) where it failed.
        public var step: String
        /// The broken promise.
        public var message: String
        /// Supporting lines (report lines, snapshot differences).
        public var evidence: [String]
        /// Every key where the scope differs from the desired state's
        /// expected entries at the failure.
        public var differences: [Difference]

        /// A failure at `step`.
        public init(step: String, message: String, evidence: [String], differences: [Difference]) {
            self.step = step
            self.message = message
            self.evidence = evidence
            self.differences = differences
        }
    }

    /// One key where the scope does not hold what was expected.
    public struct Difference: Sendable, Hashable, Codable {
        /// The key.
        public var key: String
        /// What the desired state says the scope should hold (nil: nothing).
        public var expected: String?
        /// What the scope holds (nil: nothing).
        public var actual: String?

        /// A difference at `key`.
        public init(key: String, expected: String?, actual: String?) {
            self.key = key
            self.expected = expected
            self.actual = actual
        }
    }

    /// The trace for people: one block per pass, then the failure.
    public var description: String {
        var lines = ["trace \(subject) scenario \(scenario) (max \(maxPasses) quiet passes)"]
        for pass in passes {
            lines.append("\(pass.step):")
            if let desired = pass.desired {
                lines.append("  desired (\(desired.count) entries):")
                lines += desired.map { "    \($0.key) = \($0.value)" }
            }
            if !pass.desiredChanges.isEmpty {
                lines.append("  desired changed:")
                lines += pass.desiredChanges.map { "    \($0)" }
            }
            lines += pass.events.map { "  event: \($0)" }
            lines += pass.faults.map { "  fault: \($0)" }
            for op in pass.ops {
                lines.append("  \(op.result) \(op.op)" + (op.error.map { ": \($0)" } ?? ""))
            }
            if let report = pass.report {
                lines.append(
                    "  report: converged \(report.converged), applied \(report.applied), failed \(report.failed), pending \(report.pending)")
            }
            if let threw = pass.threw { lines.append("  threw: \(threw)") }
            lines.append("  lastApplied: " + (pass.lastApplied.isEmpty ? "(nothing owned)" : pass.lastApplied.joined(separator: "; ")))
        }
        if let failure {
            lines.append("FAILED at \(failure.step): \(failure.message)")
            lines += failure.evidence.map { "  \($0)" }
            if failure.differences.isEmpty {
                lines.append("  the scope holds every expected entry")
            } else {
                lines.append("  expected vs scope, key by key:")
                for difference in failure.differences {
                    lines.append(
                        "    \(difference.key): expected \(difference.expected ?? "(absent)"), scope holds \(difference.actual ?? "(absent)")")
                }
            }
        } else {
            lines.append("passed")
        }
        return lines.joined(separator: "\n")
    }
}
