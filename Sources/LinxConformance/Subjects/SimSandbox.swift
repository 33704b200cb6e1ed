import LinxKernelSim
import LinxReconcile

/// The sandbox of a built-in subject on the simulated kernel: a fresh
/// kernel per case, seeded with the case's seed, and the scope in it.
public struct SimSandbox<Scope: Sendable>: Sendable {
    /// The case's own kernel; nothing else shares it.
    public let kernel: SimKernel
    /// Where the Source acts.
    public let scope: Scope
    /// Values found right after set-up, for subjects whose release restores them.
    public let boot: [String: String]

    public init(kernel: SimKernel, scope: Scope, boot: [String: String] = [:]) {
        self.kernel = kernel
        self.scope = scope
        self.boot = boot
    }
}
