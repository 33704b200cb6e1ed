import ArgumentParser
import Foundation
import LinxReconcile

/// `linx monitor`: the `ip monitor` equivalent.
struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Print rtnetlink changes (links, addresses, routes) as they happen.",
        discussion: """
            One line per event until interrupted. When the kernel drops events \
            because the monitor fell behind (ENOBUFS), a line says so: the events \
            in between are lost and a full re-read is the only safe reaction, \
            which is what the reconcile loop does.

            With --nftables it prints nf_tables commits instead (NFNLGRP_NFTABLES): \
            one line per commit to the namespace's ruleset, by anyone.
            """)

    @Flag(help: "Print one JSON object per line.")
    var json = false

    @Flag(help: "Print nf_tables commits instead of rtnetlink changes.")
    var nftables = false

    @OptionGroup var scope: ScopeOptions
    @OptionGroup var backend: BackendOptions

    func run() async throws {
        try await runReportingErrors {
            let host = try await Host.open(backend, scope, needsRoot: false)
            if nftables { return try await monitorNftables(host) }
            let events = try await host.backend.events(in: host.scope)
            do {
                for try await event in events {
                    print(json ? Self.json(event) : Self.line(event))
                    fflush(nil)  // one event per line, even when piped
                }
            } catch {
                throw CommandError("the monitor stopped: \(error)")
            }
        }
    }

    private func monitorNftables(_ host: Host) async throws {
        let events = try await host.backend.nftEvents(in: host.scope)
        do {
            for try await event in events {
                switch event {
                case .changed:
                    print(json ? #"{"event":"changed","kind":"nftables"}"# : "nftables: the ruleset changed (a commit)")
                case .overflow:
                    print(json ? #"{"errno":"ENOBUFS","event":"overflow","kind":"nftables"}"# : "ENOBUFS: the kernel dropped nf_tables events; state must be re-read")
                }
                fflush(nil)
            }
        } catch {
            throw CommandError("the monitor stopped: \(error)")
        }
    }

    static func line(_ event: RtnlEvent) -> String {
        switch event {
        case .link(let link, let action):
            "\(action == .new ? "new" : "del") link \(link.name) index \(link.index) \(link.isUp ? "up" : "down") mtu \(link.mtu)"
        case .address(let address, let action): "\(action == .new ? "new" : "del") \(address)"
        case .route(let route, let action): "\(action == .new ? "new" : "del") \(route)"
        case .overflow: "ENOBUFS: the kernel dropped events (monitor fell behind); state must be re-read"
        }
    }

    static func json(_ event: RtnlEvent) -> String {
        var object: [String: Any] = [:]
        switch event {
        case .link(let link, let action):
            object = ["event": action.rawValue, "kind": "link", "name": link.name, "index": link.index, "up": link.isUp]
        case .address(let address, let action):
            object = ["event": action.rawValue, "kind": "address", "address": "\(address.address)/\(address.prefixLength)", "ifindex": address.ifindex]
        case .route(let route, let action):
            object = ["event": action.rawValue, "kind": "route", "destination": route.destination.description,
                      "gateway": route.gateway?.description as Any, "table": route.table, "metric": route.metric, "protocol": route.proto]
        case .overflow:
            object = ["event": "overflow", "errno": "ENOBUFS"]
        }
        // A route without a gateway prints "gateway": null.
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
