/// A short list in insertion order that keeps its first element in place
/// and allocates only for a second one.
///
/// The route store's indices map a key (a destination, a table and
/// destination, a key without its metric) to the few routes or slots under
/// it, almost always exactly one: an array per key cost a heap allocation on
/// every route add and a free on every delete, about as much as the rest of
/// the index work together.
struct SmallBucket<Element: Sendable>: Sendable, RandomAccessCollection, ExpressibleByArrayLiteral {
    /// Nil only when the bucket is empty (``rest`` is then empty too).
    private var head: Element?
    private var rest: [Element] = []

    init(arrayLiteral elements: Element...) {
        for element in elements { append(element) }
    }

    var startIndex: Int { 0 }
    var endIndex: Int { head == nil ? 0 : 1 + rest.count }
    var isEmpty: Bool { head == nil }

    subscript(position: Int) -> Element {
        position == 0 ? head! : rest[position - 1]
    }

    mutating func append(_ element: Element) {
        if head == nil { head = element } else { rest.append(element) }
    }

    /// Removes the element at `position`; the others keep their order.
    @discardableResult
    mutating func remove(at position: Int) -> Element {
        guard position == 0 else { return rest.remove(at: position - 1) }
        let first = head!
        head = rest.isEmpty ? nil : rest.removeFirst()
        return first
    }

    /// Removes every element matching `predicate`; the others keep their order.
    mutating func removeAll(where predicate: (Element) -> Bool) {
        guard let first = head else { return }
        if !rest.isEmpty { rest.removeAll(where: predicate) }
        if predicate(first) { head = rest.isEmpty ? nil : rest.removeFirst() }
    }
}
