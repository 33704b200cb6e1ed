/// Where an entry sits inside a Source's desired state: a list of keys and
/// indices from its root, such as `routes[3]` (rtnl), `["net/ipv4/ip_forward"]`
/// (sysctl, the key as written) or `options.routeProtocol`.
///
/// ``ReconcileError/invalidDesired(entry:reason:path:)`` carries one, so a
/// caller that knows where each entry came from (a file's lines, a form's
/// fields) can point at it without reading the message text.
public struct DesiredPath: Sendable, Hashable, Codable, CustomStringConvertible, ExpressibleByArrayLiteral {
    /// One step: a mapping key or a list index.
    public enum Component: Sendable, Hashable, Codable, CustomStringConvertible,
        ExpressibleByStringLiteral, ExpressibleByIntegerLiteral
    {
        /// A key of a mapping (a section, a kind, a sysctl key as written).
        case key(String)
        /// A position in a list, from 0.
        case index(Int)

        /// A key literal.
        public init(stringLiteral value: String) { self = .key(value) }
        /// An index literal.
        public init(integerLiteral value: Int) { self = .index(value) }

        /// `name`, `"net/ipv4/x"` (a key that is not a plain word is quoted) or `[3]`.
        public var description: String {
            switch self {
            case .index(let index): "[\(index)]"
            case .key(let key):
                key.utf8.allSatisfy { Self.plain.contains($0) } && !key.isEmpty ? key : "\"\(key)\""
            }
        }

        private static let plain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-".utf8)
    }

    /// The steps from the root.
    public var components: [Component]

    /// A path from its steps.
    public init(_ components: [Component]) {
        self.components = components
    }

    /// A path literal: `["routes", 3]`.
    public init(arrayLiteral components: Component...) {
        self.components = components
    }

    /// This path with one more step.
    public func appending(_ component: Component) -> DesiredPath {
        DesiredPath(components + [component])
    }

    /// This path under `prefix` (a section placing a Source's state in a document).
    public func under(_ prefix: DesiredPath) -> DesiredPath {
        DesiredPath(prefix.components + components)
    }

    /// `routes[3]`, `sysctl."net/ipv4/ip_forward"`.
    public var description: String {
        var text = ""
        for component in components {
            if case .key = component, !text.isEmpty { text += "." }
            text += component.description
        }
        return text
    }
}
