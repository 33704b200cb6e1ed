extension RtnlReconciler {
    /// Checks `desired` and `options` without touching the kernel, with the
    /// same rules and the same errors (entry as written, ``DesiredPath``) as
    /// a pass: unparseable addresses and prefixes, prefix lengths out of
    /// range, host bits in a route destination, a gateway of the other
    /// family or the unspecified address, a route with neither gateway nor
    /// interface, table 0, an identity written twice with different values,
    /// and ownership tags the kernel reserves.
    ///
    /// Run it before ``ReconcileLoop/setDesired(_:)``: a loop given an
    /// invalid state fails every pass, and retries with backoff, until the
    /// state is replaced.
    ///
    /// Whether an interface exists is the namespace's to say, and can change
    /// at any time. Without `interfaces` every interface name is taken to
    /// exist (a pass still refuses one the namespace lacks, naming it); with
    /// the names of the namespace's links (``Link/name``), an entry naming
    /// another interface is refused as a pass would refuse it.
    ///
    /// - Throws: ``ReconcileError/invalidDesired(entry:reason:path:)`` for
    ///   the first invalid entry or option.
    public static func validate(
        _ desired: RtnlDesiredState, options: RtnlOptions = .default, interfaces: [String]? = nil
    ) throws(ReconcileError) {
        try options.validate()
        let names = interfaces ?? Self.interfaceNames(in: desired)
        // Indices only tell interfaces apart here; a pass resolves real ones.
        let links = names.enumerated().map { Link(index: Int32($0.offset + 1), name: $0.element) }
        _ = try RtnlNormalizer.resolveIndexed(desired, links: links, options: options)
    }

    /// Every interface `desired` names, each once, in order of appearance.
    private static func interfaceNames(in desired: RtnlDesiredState) -> [String] {
        var seen = Set<String>()
        let named = (desired.addresses ?? []).map(\.interface) + (desired.routes ?? []).compactMap(\.interface)
        return named.filter { seen.insert($0).inserted }
    }
}
