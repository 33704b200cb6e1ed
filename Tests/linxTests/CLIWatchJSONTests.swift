import Foundation
import Testing

@testable import linx

/// `linx apply --watch --json`: the loops log through swift-log as JSON lines.
@Suite("linx apply --watch --json")
struct CLIWatchJSONTests {
    let linx: LinxBinary
    init() throws { linx = try LinxBinary() }

    @Test("with --json, --watch logs each pass as one JSON object a line, the section and counts as fields")
    func jsonLines() async throws {
        defer { linx.cleanUp() }
        let file = try linx.write("a.yaml", "rtnl:\n  addresses:\n    - { interface: eth0, address: 10.9.0.1/24 }\n  routes: []\n")
        let watch = try linx.start([
            "apply", file, "--watch", "--json", "--interval", "3600", "--state", linx.path("s.json"), "--backend", "sim",
        ])
        defer {
            watch.signal(SIGKILL)
            _ = watch.wait()
        }
        #expect(await waitFor(watch, toPrint: "pass converged", within: .seconds(60)), "\(watch.stderr)")
        watch.signal(SIGTERM)
        _ = watch.wait()
        // The first apply's report comes first (pretty-printed JSON, its
        // first line a lone "{"); every loop log line after it is one object.
        let logLines = watch.stdout.split(separator: "\n").filter { $0.hasPrefix("{\"") }
        #expect(!logLines.isEmpty, "\(watch.stdout)")
        for line in logLines {
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
            #expect(object["label"] as? String == "linx.watch", "\(line)")
            #expect(object["time"] is String && object["level"] is String, "\(line)")
        }
        let passes = logLines.filter { $0.contains("\"message\":\"pass converged\"") }
        #expect(!passes.isEmpty, "\(watch.stdout)")
        for pass in passes {
            let object = try JSONSerialization.jsonObject(with: Data(pass.utf8)) as? [String: Any]
            #expect(object?["section"] as? String == "rtnl", "\(pass)")
            #expect(object?["applied"] != nil && object?["pending"] != nil && object?["converged"] != nil, "\(pass)")
        }
    }
}
