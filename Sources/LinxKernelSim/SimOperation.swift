import LinxReconcile

/// The kinds of backend operation the simulator can fail, count and log.
public enum SimOperation: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case linkDump, addressDump, routeDump
    case addAddress, deleteAddress, addRoute, replaceRoute, deleteRoute
    case subscribe
    case sysctlRead, sysctlWrite, sysctlList
    case cgroupHierarchy, cgroupRead, cgroupWrite, cgroupList

    /// The operation a request is.
    public init(_ request: RtnlRequest) {
        switch request {
        case .addAddress: self = .addAddress
        case .deleteAddress: self = .deleteAddress
        case .addRoute: self = .addRoute
        case .replaceRoute: self = .replaceRoute
        case .deleteRoute: self = .deleteRoute
        }
    }

    /// True for the three rtnetlink dumps.
    public var isDump: Bool { self == .linkDump || self == .addressDump || self == .routeDump }

    /// True for operations that change state.
    public var isWrite: Bool {
        switch self {
        case .addAddress, .deleteAddress, .addRoute, .replaceRoute, .deleteRoute, .sysctlWrite, .cgroupWrite: true
        default: false
        }
    }

    /// Declaration order.
    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
