/// One of N disjoint parts of a fuzz campaign, so a CI matrix or an indexed
/// job can spread one campaign over many machines.
///
/// Part K of N runs the campaign's scenarios whose index `i` (from 0) has
/// `i % N == K - 1`: every scenario belongs to exactly one part, and each
/// scenario is the same one the whole campaign would run (its seed derives
/// from the campaign seed and its index only). Round-robin keeps the parts
/// equally heavy.
public struct FuzzShard: Sendable, Hashable, Codable, CustomStringConvertible {
    /// K, from 1.
    public let index: Int
    /// N.
    public let count: Int

    /// The whole campaign as one part.
    public static let whole = FuzzShard(uncheckedIndex: 1, count: 1)

    /// Part `index` of `count`; both from 1, `index <= count`.
    public init(_ index: Int, of count: Int) throws(FuzzShardError) {
        guard count >= 1 else { throw FuzzShardError(text: "\(index)/\(count)", reason: "N must be at least 1") }
        guard (1...count).contains(index) else {
            throw FuzzShardError(text: "\(index)/\(count)", reason: "K must be between 1 and N (\(count))")
        }
        self.index = index
        self.count = count
    }

    private init(uncheckedIndex index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses `K/N`, as `linx fuzz --shard` takes it.
    public init(parsing text: String) throws(FuzzShardError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw FuzzShardError(text: text, reason: "expected K/N, such as 2/8")
        }
        try self.init(k, of: n)
    }

    /// The indices of a campaign of `scenarios` scenarios this part runs.
    public func indices(of scenarios: Int) -> StrideTo<Int> {
        stride(from: index - 1, to: max(0, scenarios), by: count)
    }

    /// `K/N`.
    public var description: String { "\(index)/\(count)" }
}

/// A `--shard` that does not parse or is out of range.
public struct FuzzShardError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text given.
    public var text: String
    /// What is wrong with it.
    public var reason: String

    /// A shard error.
    public init(text: String, reason: String) {
        self.text = text
        self.reason = reason
    }

    /// `invalid shard "0/4": K must be between 1 and N (4)`.
    public var description: String { "invalid shard \"\(text)\": \(reason)" }
}
