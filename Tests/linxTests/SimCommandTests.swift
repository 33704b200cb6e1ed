import Foundation
import Testing

/// `linx sim`: setting up a simulated host and changing it from outside,
/// then seeing linx plan against it.
@Suite("linx sim")
struct SimCommandTests {
    let linx: LinxBinary
    init() throws { linx = try LinxBinary() }

    func sim(_ arguments: [String]) throws -> LinxBinary.Result {
        try linx.run(["sim"] + arguments + ["--sim-state", linx.path("host.json")])
    }

    @Test("links, a foreign address and route are journalled; a refused change leaves the file alone")
    func foreignChanges() throws {
        defer { linx.cleanUp() }
        #expect(try sim(["link", "add", "br9", "--type", "bridge"]).status == 0)
        #expect(try sim(["addr", "add", "10.0.0.5/24", "--dev", "eth0"]).status == 0)
        #expect(try sim(["route", "add", "10.9.0.0/16", "--via", "10.0.0.1"]).status == 0)
        let before = try String(contentsOfFile: linx.path("host.json"), encoding: .utf8)
        let again = try sim(["route", "add", "10.9.0.0/16", "--via", "10.0.0.1"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("EEXIST"), "\(again.stderr)")
        #expect(try String(contentsOfFile: linx.path("host.json"), encoding: .utf8) == before)
        let show = try sim(["show"])
        #expect(show.stdout.contains("link br9 up"))
        #expect(show.stdout.contains("addr eth0 inet 10.0.0.5/24"))
        // someone else's route: protocol boot, as ip sets it
        #expect(show.stdout.contains("route unicast 10.9.0.0/16 table 254 proto 3 scope 0 metric 0 via 10.0.0.1 dev eth0"))
    }

    @Test("a journal entry the kernel refuses on replay fails loudly, naming the entry")
    func badJournal() throws {
        defer { linx.cleanUp() }
        #expect(try sim(["addr", "add", "10.0.0.5/24", "--dev", "eth0"]).status == 0)
        let path = linx.path("host.json")
        var file = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        var journal = file["journal"] as! [Any]
        journal.append(journal[0])  // the same address twice: EEXIST on replay
        file["journal"] = journal
        try JSONSerialization.data(withJSONObject: file).write(to: URL(fileURLWithPath: path))
        let show = try sim(["show"])
        #expect(show.status == 1)
        #expect(show.stderr.contains("journal entry 2"), "\(show.stderr)")
        #expect(show.stderr.contains("EEXIST"))
    }
}
