import Synchronization

/// An optional interface name held in two words of plain bytes.
///
/// Routes and addresses carry their interface's name for reports, and plans,
/// dumps, diffs and audits copy those values by the million. With a `String`
/// inside, every copy and every destroy of a ``Route`` or an
/// ``InterfaceAddress`` went through reference counting and an outlined
/// value witness; with this storage they are plain bytes and copy like
/// integers.
///
/// A Linux interface name is at most 15 bytes (IFNAMSIZ is 16 with the
/// terminating NUL), so every name a kernel can hold sits inline. A longer
/// one, which only input the kernel would refuse carries, is kept in a
/// process-wide table of such names, so that the error naming it can still
/// print it whole; each distinct long name is stored once.
package struct PackedName: Sendable, Hashable {
    /// Bytes 0-14: the UTF-8 name, zero-padded. Byte 15: its length (0-15),
    /// ``none``, or ``long`` (then bytes 0-7 are the index in ``longNames``).
    private var words: (UInt64, UInt64)

    private static let none: UInt8 = 0xFF
    private static let long: UInt8 = 0xFE
    /// The longest name kept inline.
    static let inlineCapacity = 15

    /// Names longer than ``inlineCapacity``, each stored once.
    private static let longNames = Mutex<(indices: [String: UInt64], names: [String])>(([:], []))

    private init(tag: UInt8, index: UInt64) {
        var words = (index, UInt64(0))
        withUnsafeMutableBytes(of: &words) { $0[15] = tag }
        self.words = words
    }

    /// Packs `name` (nil: no name).
    package init(_ name: String?) {
        guard var name else {
            self.init(tag: Self.none, index: 0)
            return
        }
        let count = name.utf8.count
        guard count <= Self.inlineCapacity else {
            let index = Self.longNames.withLock { table in
                if let known = table.indices[name] { return known }
                let index = UInt64(table.names.count)
                table.names.append(name)
                table.indices[name] = index
                return index
            }
            self.init(tag: Self.long, index: index)
            return
        }
        var words = (UInt64(0), UInt64(0))
        name.withUTF8 { utf8 in
            withUnsafeMutableBytes(of: &words) { raw in
                raw.copyMemory(from: UnsafeRawBufferPointer(utf8))
                raw[15] = UInt8(count)
            }
        }
        self.init(words: words)
    }

    private init(words: (UInt64, UInt64)) {
        self.words = words
    }

    private var tag: UInt8 { withUnsafeBytes(of: words) { $0[15] } }

    /// Whether there is no name.
    package var isAbsent: Bool { tag == Self.none }

    /// The name, or nil.
    package var string: String? {
        let tag = tag
        switch tag {
        case Self.none:
            return nil
        case Self.long:
            let index = Int(words.0)
            return Self.longNames.withLock { $0.names[index] }
        default:
            return withUnsafeBytes(of: words) { raw in
                String(decoding: UnsafeRawBufferPointer(rebasing: raw[..<Int(tag)]), as: UTF8.self)
            }
        }
    }

    package static func == (a: PackedName, b: PackedName) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
    }
}
