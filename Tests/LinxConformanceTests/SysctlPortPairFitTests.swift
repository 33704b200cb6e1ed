import LinxConformance
import LinxReconcile
import Testing

/// The sysctl subjects draw only desired states the kernel can hold next to
/// what the scope holds: the unprivileged port start never above the local
/// port range's low end, whether both are desired or one is held by nobody
/// the Source may touch.
@Suite("sysctl subject: desired port pairs fit the scope")
struct SysctlPortPairFitTests {
    static let start = SysctlSimSubject.portStart
    static let range = SysctlSimSubject.portRange

    func fitted(_ values: [String: SysctlValue], held: [String: String]) -> [String: SysctlValue] {
        var values = values
        SysctlSimSubject.fitPortPair(&values, held: { held[$0] })
        return values
    }

    @Test("a lone desired range is raised to the start the scope holds (fuzz sibling 2: start 1922, range from 1749)")
    func rangeRaisedToHeldStart() {
        let held = [Self.start: "1922", Self.range: "32768\t60999"]
        #expect(fitted([Self.range: "1749 26571"], held: held)[Self.range] == .string("1922 26571"))
        #expect(fitted([Self.range: "1800 1900"], held: held)[Self.range] == .string("1922 1922"))
        #expect(fitted([Self.range: "2000 3000"], held: held)[Self.range] == .string("2000 3000"))
    }

    @Test("a lone desired start is capped at the range's held low end; a desired pair at its own low end")
    func startCapped() {
        let held = [Self.start: "1024", Self.range: "1475\t11654"]
        #expect(fitted([Self.start: 1482], held: held)[Self.start] == .integer(1475))
        #expect(fitted([Self.start: 1400], held: held)[Self.start] == .integer(1400))
        let pair = fitted([Self.start: 1600, Self.range: "1500 4000"], held: held)
        #expect(pair[Self.start] == .integer(1500) && pair[Self.range] == .string("1500 4000"))
    }

    @Test("on the simulated kernel, every drawn desired state after a held start of 1922 keeps the rule")
    func drawsKeepTheRule() async throws {
        let subject = SysctlSimSubject()
        let sandbox = try await subject.makeSandbox(seed: 1)
        try sandbox.kernel.foreign.writeSysctl(Self.start, "1922", in: sandbox.scope)
        var random = SimRandom(seed: 7)
        var ranges = 0
        for _ in 0..<500 {
            let desired = subject.validDesired(in: sandbox, using: &random)
            guard desired.values[Self.start] == nil, let range = desired.values[Self.range] else { continue }
            ranges += 1
            let low = Int(range.text.split(separator: " ")[0])!
            #expect(low >= 1922, "\(range)")
        }
        #expect(ranges > 10)
    }
}
