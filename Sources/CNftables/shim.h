// libnftables (Debian: libnftables-dev): nft's own parser, evaluator and
// printer, used by LinxLinux's nf_tables backend so that rules are written
// and compared in nft syntax exactly as nft reads and lists them. The
// generation id and the monitor are raw nfnetlink (see LinxLinux/Nftables).
// No _GNU_SOURCE (see CNetlink/shim.h): memfd_create goes through syscall(2).
#include <stdint.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <nftables/libnftables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

/// An anonymous in-memory file for an nft script (memfd_create(2)).
static inline int linx_nft_memfd(void) {
    return (int)syscall(SYS_memfd_create, "linx-nft", 1U /* MFD_CLOEXEC */);
}
