import Foundation
@testable import LinxHost
import LinxReconcile
import Testing

/// The fast YAML scanner against libyaml: on every file it accepts it gives
/// libyaml's events and lines, and it hands everything else to libyaml.
@Suite("YAML fast scanner")
struct YAMLFastEventsTests {
    /// Events up to the end of the document, or the error that stopped them.
    /// The end events' lines are left out: no error names them, and libyaml
    /// places a block's end on whatever token follows it.
    static func libyaml(_ text: String) -> (events: [String], failed: Bool) {
        let events = YAMLEvents(text: Array(text.utf8))
        var out: [String] = []
        while true {
            guard let event = try? events.next() else { return (out, true) }
            out.append(describe(event))
            if event.event == .end { return (out, false) }
        }
    }

    static func fast(_ text: String) -> [String]? {
        let events = YAMLFastEvents(bytes: Array(text.utf8))
        var out: [String] = []
        while true {
            guard let event = try? events.next() else { return nil }
            out.append(describe(event))
            if event.event == .end { return out }
        }
    }

    static func describe(_ event: PositionedEvent) -> String {
        switch event.event {
        case .mappingEnd, .sequenceEnd, .end: "\(event.event)"
        case .scalar(let text, let plain): "\(event.line): \(plain ? "plain" : "quoted") [\(text)]"
        default: "\(event.line): \(event.event)"
        }
    }

    /// Files in the subset, each shape a desired-state file takes.
    static let accepted = [
        "",
        "# only a comment\n",
        "rtnl: {}\n",
        "rtnl:\n  routes: []\n",
        HostDocumentParsingTests.yaml,
        """
        rtnl:
          protocol: 76            # a comment
          addresses:
            - { interface: eth0, address: 192.0.2.10/24 }
            - { interface: eth1, address: "fd00:20::1/64" }
            - {interface: eth1,address: 'fd00:21::1/64'}
          routes:
            - { destination: default, gateway: 192.0.2.1 }
            - { destination: "::/0", gateway: fe80::1, interface: eth0 }
            - { destination: 10.30.0.0/16, gateway: ~, metric: 50 }
        sysctl:
          revertOnRelease: true
          keys:
            net.ipv4.ip_forward: 1
            "net/ipv4/conf/all/rp_filter": 2
            kernel.domainname: host a#b
        cgroups:
          /sys/fs/cgroup/web:
            memory.max: 268435456   # 256 MiB
            cpu.max: { quota: max, period: 100000 }
            cpu.weight: "max 100000"
        """,
        "rtnl:\n  routes:\n  - destination: 10.0.0.0/8\n    gateway: 10.0.0.1\n  - destination: 10.1.0.0/16\n    interface: eth0\n  addresses: []\n",
        "rtnl:\n    routes:\n        -   destination: default\n            gateway: 10.0.0.1\n\n\n    protocol: 77\n",
        "a:\n  - b:\n    - { c: d }\n  - e: f\n",
        "key: value with spaces   \nother: 'single' # c\n",
        "  indented: 1\n  root: 2\n",
        "x: 1",
        "x:\n  y: {   }\n",
    ]

    @Test("on every file in its subset, the fast scanner gives libyaml's events and lines", arguments: accepted)
    func sameAsLibyaml(_ text: String) throws {
        let reference = Self.libyaml(text)
        #expect(!reference.failed)
        let fast = try #require(Self.fast(text), "outside the subset:\n\(text)")
        #expect(fast == reference.events)
    }

    /// Valid YAML outside the subset, and invalid YAML: the fast scanner
    /// gives up on each (libyaml then reads it, or names the error).
    static let refused = [
        "a:\n\tb: 1\n",                       // a tab
        "a: &x 1\nb: *x\n",                   // anchor and alias
        "a: !!str 1\n",                       // a tag
        "a: |\n  text\n",                     // a block scalar
        "a: one\n  two\n",                    // a multi-line plain scalar
        "a: \"x\\ty\"\n",                     // an escape
        "a: 'it''s'\n",                       // a quote in single quotes
        "a:\nb: 1\n",                         // an empty value
        "---\na: 1\n",                        // a document marker
        "a: 1\n...\n",
        "a: [1, 2]\n",                        // a flow sequence
        "a: { b: { c: 1 } }\n",               // nested flow
        "a: {b: 1,\n  c: 2}\n",               // flow over lines
        "a: { b: 1, }\n",                     // a trailing comma
        "a: 1\r\nb: 2\r\n",                   // CRLF
        "a: é\n",                             // not ASCII
        "a: b: c\n",                          // invalid
        "a: 1\n b: 2\n",                      // bad indentation
        "a:\n  b: 1\n c: 2\n",
        "- a\n- b\n",                         // a root sequence
        "a\n",                                // a root scalar
        "? a\n: b\n",                         // a complex key
        "a:\n  - b\n",                        // a scalar item
        "a:\n  -\n    b: 1\n",                // an item on the next line
        "a b: 1\n",                           // a key with a space
        "a: -1\n",                            // a value starting with an indicator
        "a: { b:c }\n",
        "a: { b: c:, d: e }\n",
        "a: x,y\n",
        "a: 1\nb: 2\n  c: 3\n",
    ]

    @Test("outside its subset the fast scanner gives up", arguments: refused)
    func givesUp(_ text: String) {
        #expect(Self.fast(text) == nil, "accepted:\n\(text)")
    }

    /// Random edits of a document (seeded): whenever the fast scanner
    /// accepts the result, libyaml accepts it too, with the same events.
    @Test("on random edits of a file, the fast scanner never disagrees with libyaml")
    func mutations() throws {
        let base = Array((Self.accepted[5] + "\n" + Self.accepted[6]).utf8)
        let alphabet = Array(" :-{},#'\"\n\tab1/.[]~".utf8)
        var generator = SplitMix(seed: 15)
        var acceptedMutants = 0
        for _ in 0..<3_000 {
            var bytes = base
            for _ in 0..<(1 + Int(generator.next() % 3)) {
                let at = Int(generator.next() % UInt64(bytes.count))
                switch generator.next() % 3 {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(alphabet[Int(generator.next() % UInt64(alphabet.count))], at: at)
                default: bytes[at] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            guard let fast = Self.fast(text) else { continue }
            acceptedMutants += 1
            let reference = Self.libyaml(text)
            #expect(!reference.failed && fast == reference.events, "differs from libyaml on:\n\(text)")
            if reference.failed || fast != reference.events { return }
        }
        // The edits must leave many files in the subset, or this proves nothing.
        #expect(acceptedMutants > 300)
    }

    @Test("a document reads the same through the fast scanner and through libyaml alone")
    func sameDocument() throws {
        let text = Self.accepted[5]
        let fast = try HostDocument.parse(text, format: .yaml, file: "f.yaml")
        let slow = try HostDocument.decode(DocumentReader(.yaml(YAMLEvents(text: Array(text.utf8))), file: "f.yaml"))
        #expect(fast == slow)
        for path: DesiredPath in [["rtnl", "routes", .index(2)], ["sysctl", "keys", "net/ipv4/conf/all/rp_filter"], ["cgroups", "/sys/fs/cgroup/web", "cpu.max"]] {
            #expect(fast.origin?.line(of: path) == slow.origin?.line(of: path))
            #expect(fast.origin?.line(of: path) != nil)
        }
    }

    @Test("an error in a file the fast scanner reads is libyaml's and the decoder's, with its line")
    func errorsComeFromTheFullPath() {
        // In the subset, but refused by the decoder: the error is the same
        // as libyaml's events give it.
        let text = "rtnl:\n  routes:\n    - { destination: 10.0.0.0/8, via: 10.0.0.1 }\n"
        #expect(Self.fast(text) != nil)
        #expect {
            try HostDocument.parse(text, format: .yaml, file: "f.yaml")
        } throws: { error in
            (error as? HostDocumentError)?.line == 3 && "\(error)".contains("unknown key \"via\"")
        }
        // Outside it and invalid: libyaml's message.
        #expect {
            try HostDocument.parse("rtnl:\n  routes: [\n", format: .yaml, file: "f.yaml")
        } throws: { error in
            "\(error)".contains("not valid YAML")
        }
    }
}

/// A small seeded generator, so a failing edit can be replayed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
