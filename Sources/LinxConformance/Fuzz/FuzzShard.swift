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
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { ("0"..."9").contains($0) } }) else {
            throw FuzzShardError(text: text, reason: "expected K/N, such as 2/8")
        }
        guard let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw FuzzShardError(text: text, reason: "K and N must be at most \(Int.max)")
        }
        try self.init(k, of: n)
    }

    /// Refuses a shard count above the campaign's size: some part would
    /// run no scenario, a CI job that tests nothing (and the parts of a
    /// larger count would only be empty ones).
    public func check(scenarios: Int) throws(FuzzShardError) {
        guard count <= scenarios else {
            throw FuzzShardError(
                text: description,
                reason: "N (\(count)) must be at most the campaign's scenarios (\(scenarios)), or some shard would run none")
        }
    }

    /// The indices of a campaign of `scenarios` scenarios this part runs.
    public func indices(of scenarios: Int) -> StrideTo<Int> {
        stride(from: index - 1, to: max(0, scenarios), by: count)
    }

    /// How many scenarios of a campaign of `scenarios` this part runs,
    /// counted without walking them.
    public func scenarioCount(of scenarios: Int) -> Int {
        index <= scenarios ? (scenarios - index) / count + 1 : 0
    }

    /// `K/N`.
    public var description: String { "\(index)/\(count)" }

    private enum CodingKeys: String, CodingKey { case index, count }

    /// Decodes `{"index": K, "count": N}`, refusing what ``init(_:of:)``
    /// refuses: a result file read back by `linx fuzz merge` is input.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let index = try container.decode(Int.self, forKey: .index)
        let count = try container.decode(Int.self, forKey: .count)
        do {
            try self.init(index, of: count)
        } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }
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
