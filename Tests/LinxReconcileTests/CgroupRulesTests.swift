import Foundation
import LinxReconcile
import Testing

@Suite("cgroup values, kernel forms and defaults (pure)")
struct CgroupRulesTests {
    @Test("memory limits compare rounded down to the page, with memparse suffixes", arguments: [
        ("memory.max", "1000000", "999424", true),
        ("memory.max", "1M", "1048576", true),
        ("memory.high", "max", "max", true),
        ("memory.max", "1000000", "1000000", false),
        ("pids.max", "100", "100", true),
        ("memory.oom.group", "1", "1", true),   // not a byte count: never rounded
        ("cpu.max", "50000 100000", "50000\t100000", true),
        ("cpu.max", "max", "max 250000", true), // a lone quota keeps the period
        ("cpu.max", "max", "50000 100000", false),
        ("io.max", "8:0  rbps=1048576", "8:0 rbps=1048576", true),
    ])
    func compare(file: String, desired: String, observed: String, same: Bool) {
        #expect(CgroupFileRules.isSame(file: file, desired: desired, observed: observed) == same)
    }

    @Test("release defaults: max for single-limit *.max, max 100000 for cpu.max, 100 for cpu.weight, none otherwise")
    func defaults() {
        #expect(CgroupFileRules.defaultValue(of: "memory.max") == "max")
        #expect(CgroupFileRules.defaultValue(of: "pids.max") == "max")
        #expect(CgroupFileRules.defaultValue(of: "cpu.max") == "max 100000")
        #expect(CgroupFileRules.defaultValue(of: "cpu.weight") == "100")
        #expect(CgroupFileRules.defaultValue(of: "io.max") == nil)
        #expect(CgroupFileRules.defaultValue(of: "memory.oom.group") == nil)
    }

    @Test("values: literals read like the kernel, cpu.max prints quota and period, JSON round-trips")
    func values() throws {
        let desired: CgroupDesiredState = [
            "memory.max": .integer(268_435_456), "pids.max": 100, "memory.swap.max": "max",
            "cpu.max": .cpuMax(quota: nil, period: 100_000), "io.max": .raw("8:0 rbps=1"),
        ]
        #expect(desired["memory.swap.max"] == .max)
        #expect(CgroupValue.cpuMax(quota: 50_000, period: 100_000).text == "50000 100000")
        #expect(desired["cpu.max"]?.text == "max 100000")
        let decoded = try JSONDecoder().decode(CgroupDesiredState.self, from: JSONEncoder().encode(desired))
        #expect(decoded == desired)
    }

    @Test("file names that leave the cgroup are refused", arguments: ["", "../memory.max", "sub/memory.max", "..", "memory..max"])
    func badFiles(file: String) throws {
        let error = try #require(throws: ReconcileError.self) {
            try CgroupReconciler.validate([file: 1])
        }
        guard case .invalidDesired(let entry, _, _) = error else { Issue.record("\(error)"); return }
        #expect(entry.contains("\"\(file)\""))
    }
}
