/// How an nf_tables pass proves and keeps ownership of its table.
public struct NftablesOptions: Sendable, Hashable, Codable {
    /// The table comment that marks a table as Linx's. A pass converges a
    /// table that carries it (deleting rules someone added there by hand)
    /// and deletes it on release; a table of that name without it existed
    /// before Linx wanted it, so it is never touched (the create fails with
    /// EEXIST). The comment is the kernel-side proof, so ownership survives
    /// a lost `lastApplied`.
    public var marker: String
    /// What happens to the firewall when the process holding the backend dies.
    public var lifetime: NftTableLifetime
    /// How often a pass re-observes and re-plans after another writer
    /// committed between its observation and its commit (ERESTART).
    public var maxRetries: Int

    /// Options: marker `linx`, a table that outlives the agent, 3 retries.
    public init(marker: String = "linx", lifetime: NftTableLifetime = .persistent, maxRetries: Int = 3) {
        self.marker = marker
        self.lifetime = lifetime
        self.maxRetries = maxRetries
    }

    /// The defaults.
    public static let `default` = NftablesOptions()
}

/// Whether the table is tied to the agent's netlink socket, and so what a
/// crash of the agent does to the firewall. Applies when Linx creates the
/// table; an existing table keeps the flags it has (changing them
/// re-creates it, in the same transaction).
public enum NftTableLifetime: String, Sendable, Hashable, Codable, CaseIterable {
    /// No owner flag. The table stays after the agent exits: the firewall
    /// keeps enforcing (fail-closed), and anyone with CAP_NET_ADMIN can change
    /// it between passes (the next pass heals it).
    case persistent
    /// NFT_TABLE_F_OWNER (Linux 5.12+): only the agent's socket may change or
    /// delete the table (others get EPERM), and the kernel removes it when
    /// that socket closes: an agent crash leaves no firewall (fail-open).
    /// Needs a long-lived backend, such as the one a ``ReconcileLoop`` holds.
    case owned
    /// NFT_TABLE_F_OWNER | NFT_TABLE_F_PERSIST (Linux 6.9+): others get EPERM
    /// while the agent lives; when it dies the table stays, orphaned, until a
    /// restarted agent takes it over (fail-closed).
    case ownedPersistent

    /// The table flags this lifetime creates the table with.
    public var flags: NftTableFlags {
        switch self {
        case .persistent: []
        case .owned: [.owner]
        case .ownedPersistent: [.owner, .persist]
        }
    }
}

/// What an nf_tables pass hands to the next: whether it left a table of
/// ours in place. Ownership itself is proven by the table's marker comment.
public struct NftLastApplied: Sendable, Hashable, Codable {
    /// True when the table exists with our marker after the pass.
    public var ownsTable: Bool

    /// An ownership record.
    public init(ownsTable: Bool) { self.ownsTable = ownsTable }

    /// Owns nothing.
    public static let empty = NftLastApplied(ownsTable: false)
}
