import LinxKernelSim
import Testing
