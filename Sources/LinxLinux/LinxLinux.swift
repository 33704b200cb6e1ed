import CNetlink
import LinxReconcile
import SystemPackage

/// The real-kernel backend: rtnetlink through libnl-route, sysctl through
/// /proc/sys, cgroup limits through cgroupfs. ``LinuxKernel`` is the backend;
/// the throwaway namespaces and cgroups real-kernel tests run in are the
/// `LinxTestSupport` product's.
public enum LinxLinux {
    /// The libnl version this binary was built against, proving the link.
    public static var libnlVersion: String {
        "\(LIBNL_VER_MAJ).\(LIBNL_VER_MIN).\(LIBNL_VER_MIC)"
    }
}
