import Glibc
import LinxReconcile

/// A transaction of tables, plain sets and their elements as the nfnetlink
/// batch nft would send for it, built without libnftables, and which
/// command each message carries.
///
/// An element is a key of its set's type, not an expression: for the types
/// encoded here (`ipv4_addr`, `ipv6_addr`, `inet_service`) its bytes are the
/// address or port itself. Sending the batch ourselves skips nft's parser
/// and evaluator, which is most of what a pass of thousands of elements
/// costs, and lets the batch carry the generation it was planned at
/// (NFNL_BATCH_GENID, which nft 1.0.6 never sends): the kernel itself
/// refuses a stale batch with ERESTART, with no window after our check.
///
/// Only a transaction nft could not judge differently from the kernel is
/// built here; anything else (rules, chains, deletions of sets or tables,
/// maps, set flags, other types, an element that is not a plain address or
/// port number, a table that is or would be owner-flagged, a set that
/// exists when the batch declares it, one missing when the batch fills it)
/// is left to libnftables (``init(_:expecting:lookup:)`` returns nil), so a
/// refusal nft reports itself (a missing set, a mistyped element) is still
/// nft's, and which command is blamed stays as modelled. The messages are
/// the ones nft 1.0.6 sends (checked with strace: same types, flags,
/// attributes and user data, elements split at the nested attribute's
/// 64 KiB limit), so the kernel builds the same objects and nft lists them
/// as if nft had made them (NftablesRawBatchKernelTests).
struct NftRawBatch {
    /// The batch: BATCH_BEGIN (with the generation), the messages, BATCH_END.
    private(set) var bytes: [UInt8] = []
    /// The command each message's sequence number carries (index = seq).
    private(set) var commandOfSequence: [Int?] = []

    /// What the kernel holds that the batch depends on.
    struct Lookup {
        /// nil: no such table; else its flags.
        var tableFlags: (NftTableRef) throws(KernelError) -> UInt32?
        /// nil: no such set; else what nft needs to encode its elements.
        var set: (NftTableRef, String) throws(KernelError) -> ExistingSet?
        /// Whether nft's parser reads the table's name (and the set's, when
        /// given) as names: a keyword (`counter`, `table`) is a syntax error
        /// to nft, and the kernel, which takes any string, must not make it
        /// one that only the raw path could create and nft never name.
        var nftReadsNames: (NftTableRef, String?) -> Bool
    }

    /// A set as the kernel holds it (NFT_MSG_GETSET).
    struct ExistingSet {
        var flags: UInt32
        var keyType: UInt32
        var keyLength: UInt32
    }

    /// A key type nft encodes as the bytes of the value itself.
    enum KeyType: String {
        case ipv4 = "ipv4_addr"
        case ipv6 = "ipv6_addr"
        case service = "inet_service"

        /// nft's datatype id (NFTA_SET_KEY_TYPE) and the key's length.
        var id: UInt32 {
            switch self {
            case .ipv4: 7
            case .ipv6: 8
            case .service: 13
            }
        }

        var length: UInt32 {
            switch self {
            case .ipv4: 4
            case .ipv6: 16
            case .service: 2
            }
        }

        init?(id: UInt32, length: UInt32) {
            guard let type = [KeyType.ipv4, .ipv6, .service].first(where: { $0.id == id && $0.length == length }) else { return nil }
            self = type
        }

        /// Appends the key bytes of `element` to `keys`; false (nothing
        /// appended) unless it is written the one way that has no other
        /// reading: a dotted quad of decimal octets without leading zeros,
        /// an IPv6 address inet_pton takes (no prefix, range, zone or name;
        /// a dotted quad only after `::ffff:` or `::`),
        /// a decimal port without leading zeros.
        func appendKey(_ element: String, to keys: inout [UInt8]) -> Bool {
            switch self {
            case .ipv4:
                guard let address = Self.decimals(element, parts: 4, maximum: 255) else { return false }
                keys += [UInt8(address >> 24), UInt8(address >> 16 & 0xFF), UInt8(address >> 8 & 0xFF), UInt8(address & 0xFF)]
                return true
            case .ipv6:
                // An embedded dotted quad only as `::ffff:A.B.C.D` or
                // `::A.B.C.D`: inet_pton takes other spellings of it that
                // nft's lexer refuses (`0:0:0:0:0:ffff:1.2.3.4`).
                if element.utf8.contains(UInt8(ascii: ".")) {
                    let quad = element.hasPrefix("::ffff:") ? element.dropFirst(7) : element.hasPrefix("::") ? element.dropFirst(2) : nil
                    guard let quad, Self.decimals(String(quad), parts: 4, maximum: 255) != nil else { return false }
                }
                guard element.utf8.allSatisfy({ Self.isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }),
                    element.utf8.contains(UInt8(ascii: ":"))
                else { return false }
                var address = in6_addr()
                guard inet_pton(AF_INET6, element, &address) == 1 else { return false }
                withUnsafeBytes(of: address) { keys += $0 }
                return true
            case .service:
                guard let port = Self.decimals(element, parts: 1, maximum: 65535) else { return false }
                keys += [UInt8(port >> 8), UInt8(port & 0xFF)]
                return true
            }
        }

        /// `parts` decimal numbers of at most `maximum` each, no leading
        /// zeros, separated by dots, packed (8 bits each for several); nil
        /// for anything else. One pass over the bytes: a cold pass reads
        /// thousands of these.
        static func decimals(_ text: String, parts: Int, maximum: Int) -> UInt32? {
            var text = text
            return text.withUTF8 { bytes -> UInt32? in
                var packed: UInt32 = 0
                var value = 0
                var digits = 0
                var seen = 0
                for byte in bytes {
                    if byte == UInt8(ascii: "."), parts > 1 {
                        guard digits > 0, seen < parts - 1 else { return nil }
                        packed = packed << 8 | UInt32(value)
                        (value, digits, seen) = (0, 0, seen + 1)
                        continue
                    }
                    guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), !(digits == 1 && value == 0) else { return nil }
                    value = value * 10 + Int(byte - UInt8(ascii: "0"))
                    digits += 1
                    guard value <= maximum else { return nil }
                }
                guard digits > 0, seen == parts - 1 else { return nil }
                return parts > 1 ? packed << 8 | UInt32(value) : UInt32(value)
            }
        }

        private static func isHexDigit(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
        }
    }

    /// The batch for `commands` planned at `generation`, or nil when
    /// libnftables must send it (see the type's documentation).
    init?(_ commands: [NftCommand], expecting generation: UInt32, lookup: Lookup) throws(KernelError) {
        guard !commands.isEmpty else { return nil }
        // Decide first, then encode: a transaction is sent whole or not here.
        var created: Set<NftTableRef> = []
        var sets: [SetKey: (type: KeyType, id: UInt32?)] = [:]
        var nextSetID: UInt32 = 1
        var keys: [[UInt8]] = Array(repeating: [], count: commands.count)
        for (index, command) in commands.enumerated() {
            switch command {
            case .addTable(let table, let flags, let comment):
                guard flags.isSubset(of: [.dormant]), comment.map(Self.isPlainComment) ?? true, !created.contains(table),
                    lookup.nftReadsNames(table, nil), try lookup.tableFlags(table) == nil
                else { return nil }
                created.insert(table)
            case .addSet(let table, let set):
                guard set.dataType == nil, set.flags.isEmpty, set.elements.isEmpty, let type = KeyType(rawValue: set.type),
                    sets[SetKey(table: table, name: set.name)] == nil, lookup.nftReadsNames(table, set.name),
                    try Self.usable(table, created: created, lookup: lookup)
                else { return nil }
                // A set already there keeps its own type in nft's cache (and
                // the kernel refuses a re-typed one): nft's to judge.
                if !created.contains(table), try lookup.set(table, set.name) != nil { return nil }
                sets[SetKey(table: table, name: set.name)] = (type, nextSetID)
                nextSetID += 1
            case .addElements(let table, let name, let elements), .deleteElements(let table, let name, let elements):
                // An empty list is a syntax error to nft ("unexpected '}'").
                guard !elements.isEmpty else { return nil }
                let key = SetKey(table: table, name: name)
                if sets[key] == nil {
                    guard !created.contains(table), lookup.nftReadsNames(table, name), try Self.usable(table, created: created, lookup: lookup),
                        let existing = try lookup.set(table, name), existing.flags == 0,
                        let type = KeyType(id: existing.keyType, length: existing.keyLength)
                    else { return nil }
                    sets[key] = (type, nil)
                }
                let type = sets[key]!.type
                var encoded: [UInt8] = []
                encoded.reserveCapacity(elements.count * Int(type.length))
                for element in elements {
                    guard type.appendKey(element, to: &encoded) else { return nil }
                }
                keys[index] = encoded
            default:
                return nil
            }
        }

        begin(generation: generation)
        for (index, command) in commands.enumerated() {
            switch command {
            case .addTable(let table, let flags, let comment):
                message(Self.newTable, flags: 0, family: table.family, command: index) { body in
                    body.string(1, table.name)  // NFTA_TABLE_NAME
                    body.u32(2, flags.rawValue)  // NFTA_TABLE_FLAGS
                    if let comment {
                        // NFTA_TABLE_USERDATA: NFTNL_UDATA_TABLE_COMMENT, NUL-terminated.
                        let text = Array(comment.utf8) + [0]
                        body.attribute(6, [0, UInt8(text.count)] + text)
                    }
                }
            case .addSet(let table, let set):
                let (type, id) = sets[SetKey(table: table, name: set.name)]!
                message(Self.newSet, flags: Self.create, family: table.family, command: index) { body in
                    body.string(1, table.name)  // NFTA_SET_TABLE
                    body.string(2, set.name)  // NFTA_SET_NAME
                    body.u32(3, 0)  // NFTA_SET_FLAGS
                    body.u32(4, type.id)  // NFTA_SET_KEY_TYPE
                    body.u32(5, type.length)  // NFTA_SET_KEY_LEN
                    body.u32(10, id!)  // NFTA_SET_ID
                    // NFTA_SET_USERDATA: NFTNL_UDATA_SET_KEYBYTEORDER, big endian (2), as nft writes it.
                    body.attribute(13, [0, 4, 2, 0, 0, 0])
                }
            case .addElements(let table, let name, _), .deleteElements(let table, let name, _):
                let (type, id) = sets[SetKey(table: table, name: name)]!
                let adding = if case .addElements = command { true } else { false }
                let all = keys[index]
                let length = Int(type.length)
                let count = all.count / length
                // nft puts as many elements in one message as the nested
                // list's 16-bit length holds.
                let perElement = 12 + Self.padded(length)
                let perMessage = (65535 - 4) / perElement
                var start = 0
                repeat {
                    let end = min(count, start + perMessage)
                    message(adding ? Self.newSetElement : Self.deleteSetElement, flags: adding ? Self.create : 0, family: table.family, command: index) { body in
                        body.string(1, table.name)  // NFTA_SET_ELEM_LIST_TABLE
                        body.string(2, name)  // NFTA_SET_ELEM_LIST_SET
                        if let id { body.u32(4, id) }  // NFTA_SET_ELEM_LIST_SET_ID
                        // NFTA_SET_ELEM_LIST_ELEMENTS: per element NFTA_LIST_ELEM
                        // (nft numbers them) { NFTA_SET_ELEM_KEY { NFTA_DATA_VALUE } },
                        // written out flat.
                        Attributes.append(UInt16(4 + (end - start) * perElement), to: &body.bytes)
                        Attributes.append(UInt16(3) | 0x8000, to: &body.bytes)
                        body.bytes.reserveCapacity(body.bytes.count + (end - start) * perElement)
                        let pad = Self.padded(length) - length
                        for element in start..<end {
                            Attributes.append(UInt16(perElement), to: &body.bytes)
                            Attributes.append(UInt16(element - start + 1) | 0x8000, to: &body.bytes)
                            Attributes.append(UInt16(perElement - 4), to: &body.bytes)
                            Attributes.append(UInt16(1) | 0x8000, to: &body.bytes)
                            Attributes.append(UInt16(4 + length), to: &body.bytes)
                            Attributes.append(UInt16(1), to: &body.bytes)
                            body.bytes += all[(element * length)..<((element + 1) * length)]
                            if pad > 0 { body.bytes += repeatElement(0, count: pad) }
                        }
                    }
                    start = end
                } while start < count
            default:
                preconditionFailure("decided above")
            }
        }
        end()
    }

    private struct SetKey: Hashable {
        var table: NftTableRef
        var name: String
    }

    /// A table the batch may fill: made by the batch, or there without the
    /// owner flag (an owner-flagged table belongs to libnftables' socket,
    /// and this batch goes out on the generation socket).
    private static func usable(_ table: NftTableRef, created: Set<NftTableRef>, lookup: Lookup) throws(KernelError) -> Bool {
        if created.contains(table) { return true }
        guard let flags = try lookup.tableFlags(table) else { return false }
        return flags & 2 == 0  // NFT_TABLE_F_OWNER
    }

    /// A comment nft stores byte for byte: printable, no quote, short
    /// enough for its one-byte user-data length.
    private static func isPlainComment(_ text: String) -> Bool {
        text.utf8.count <= 128 && text.utf8.allSatisfy { $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != 0x7F }
    }

    private static let newTable: UInt16 = 0
    private static let newSet: UInt16 = 9
    private static let newSetElement: UInt16 = 12
    private static let deleteSetElement: UInt16 = 14
    private static let create: UInt16 = 0x400  // NLM_F_CREATE

    private static func padded(_ length: Int) -> Int { (length + 3) & ~3 }

    private mutating func begin(generation: UInt32) {
        // NFNL_MSG_BATCH_BEGIN, res_id NFNL_SUBSYS_NFTABLES, NFNL_BATCH_GENID.
        header(type: 0x10, flags: 0, family: 0, resourceID: 10, command: nil) { body in body.u32(1, generation) }
    }

    private mutating func end() {
        header(type: 0x11, flags: 0, family: 0, resourceID: 10, command: nil) { _ in }
    }

    private mutating func message(_ type: UInt16, flags: UInt16, family: NftFamily, command: Int, _ build: (inout Attributes) -> Void) {
        header(type: 10 << 8 | type, flags: flags, family: family.nfproto, resourceID: 0, command: command, build)
    }

    private mutating func header(
        type: UInt16, flags: UInt16, family: UInt8, resourceID: UInt16, command: Int?, _ build: (inout Attributes) -> Void
    ) {
        var attributes = Attributes()
        build(&attributes)
        let length = 20 + attributes.bytes.count
        let sequence = UInt32(commandOfSequence.count)
        commandOfSequence.append(command)
        bytes.reserveCapacity(bytes.count + length)
        Attributes.append(UInt32(length), to: &bytes)
        Attributes.append(type, to: &bytes)
        Attributes.append(UInt16(1) | flags, to: &bytes)  // NLM_F_REQUEST
        Attributes.append(sequence, to: &bytes)
        Attributes.append(UInt32(0), to: &bytes)  // port id: the kernel's
        bytes += [family, 0]  // nfgenmsg: family, NFNETLINK_V0
        bytes += [UInt8(resourceID >> 8), UInt8(resourceID & 0xFF)]  // res_id, big endian
        bytes += attributes.bytes
    }

    /// Netlink attributes: type-length-value, 4-byte aligned, host order
    /// headers; nf_tables' own integers are big endian.
    struct Attributes {
        var bytes: [UInt8] = []

        mutating func attribute(_ type: UInt16, _ value: [UInt8]) {
            Self.append(UInt16(4 + value.count), to: &bytes)
            Self.append(type, to: &bytes)
            bytes += value
            bytes += [UInt8](repeating: 0, count: NftRawBatch.padded(value.count) - value.count)
        }

        mutating func string(_ type: UInt16, _ text: String) { attribute(type, Array(text.utf8) + [0]) }

        mutating func u32(_ type: UInt16, _ value: UInt32) {
            attribute(type, [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
        }

        static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
            withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
        }
    }
}
