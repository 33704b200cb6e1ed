// One import is enough for a Source author's conformance tests: the contract
// a subject's signatures are written in (ReconcileSource, ReconcileOp,
// KernelError and its Errno), and the seeded random stream every subject
// draws from, come with LinxConformance.
@_exported import LinxReconcile
@_exported import struct LinxKernelSim.SimRandom
@_exported import struct SystemPackage.Errno
