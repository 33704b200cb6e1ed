// One import is enough for a Source author's conformance and fuzzing tests:
// the contract a subject's signatures are written in (ReconcileSource,
// ReconcileOp, KernelError and its Errno), the seeded random stream every
// subject draws from, and the fault kinds a FuzzableSubject names, come with
// LinxConformance. (A subject over a SimKernel names the kernel itself, and
// imports LinxKernelSim for it.)
@_exported import LinxReconcile
@_exported import struct LinxKernelSim.SimRandom
@_exported import enum LinxKernelSim.SimFaultKind
@_exported import struct SystemPackage.Errno
