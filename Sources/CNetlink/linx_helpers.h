// Small C helpers for LinxLinux: GNU-only calls and macros Swift cannot
// import directly. Kept static inline so the system library needs no
// compiled sources.
#ifndef LINX_HELPERS_H
#define LINX_HELPERS_H

#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/epoll.h>
#include <sys/vfs.h>
#include <sys/pidfd.h>
#include <poll.h>
#include <time.h>
#include <semaphore.h>
#include <linux/magic.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_arp.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/// Moves the calling thread into the network namespace `fd` refers to.
/// (setns(2) by syscall: glibc declares it only under _GNU_SOURCE.)
static inline int linx_setns_net(int fd) { return (int)syscall(SYS_setns, fd, CLONE_NEWNET); }

/// A pidfd for `pid` (pins the process's identity: a reused pid is a
/// different process), or -1 with errno set.
static inline int linx_pidfd_open(int pid) { return pidfd_open(pid, 0); }

/// 1 when the process behind `pidfd` has exited, 0 while it runs.
static inline int linx_pidfd_exited(int pidfd) {
    struct pollfd p = { .fd = pidfd, .events = POLLIN, .revents = 0 };
    return poll(&p, 1, 0) > 0 ? 1 : 0;
}

/// sem_wait with a relative timeout in milliseconds (< 0: forever).
/// Returns 0 when signalled, -1 with errno ETIMEDOUT when it ran out.
static inline int linx_sem_wait_ms(sem_t *sem, long milliseconds) {
    if (milliseconds < 0) return sem_wait(sem);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += milliseconds / 1000;
    deadline.tv_nsec += (milliseconds % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) { deadline.tv_sec += 1; deadline.tv_nsec -= 1000000000L; }
    return sem_timedwait(sem, &deadline);
}

/// The thread's errno, read right after a failed call.
static inline int linx_errno(void) { return errno; }

/// Sets an int socket option at SOL_NETLINK level (NETLINK_GET_STRICT_CHK, ...).
static inline int linx_netlink_setopt(int fd, int option, int value) {
    return setsockopt(fd, SOL_NETLINK, option, &value, sizeof(value));
}

/// Receives up to `count` datagrams in one call (recvmmsg with
/// MSG_WAITFORONE plus `flags`): datagram i lands at buf + i * each, its
/// length in lens[i]; truncated[i] is set when it did not fit.
/// Returns the number received, or -1 with errno set.
static inline int linx_recv_batch(int fd, unsigned char *buf, unsigned int each,
                                  unsigned int count, unsigned int *lens,
                                  unsigned char *truncated, int flags) {
    // struct mmsghdr and recvmmsg(2) are GNU-only in glibc's headers: the
    // kernel's layout, called by syscall.
    struct linx_mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; } msgs[count];
    struct iovec iov[count];
    memset(msgs, 0, sizeof(msgs));
    for (unsigned int i = 0; i < count; i++) {
        iov[i].iov_base = buf + (size_t)i * each;
        iov[i].iov_len = each;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = (int)syscall(SYS_recvmmsg, fd, msgs, count, MSG_WAITFORONE | flags, NULL);
    for (int i = 0; i < n; i++) {
        lens[i] = msgs[i].msg_len;
        truncated[i] = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? 1 : 0;
    }
    return n;
}

/// Highest attribute numbers (macros over enums, invisible to Swift).
static inline int linx_rta_max(void) { return RTA_MAX; }
static inline int linx_ifa_max(void) { return IFA_MAX; }

static inline uint32_t linx_nlmsg_hdrlen(void) { return NLMSG_HDRLEN; }
static inline uint32_t linx_nlmsg_align(uint32_t len) { return NLMSG_ALIGN(len); }

/// The filesystem type (statfs f_type) of `path`, or -1 with errno set.
static inline long linx_fs_type(const char *path) {
    struct statfs info;
    if (statfs(path, &info) != 0) return -1;
    return (long)info.f_type;
}

/// The filesystem magic numbers hierarchy detection compares statfs against.
static inline long linx_cgroup2_magic(void) { return CGROUP2_SUPER_MAGIC; }
static inline long linx_cgroup1_magic(void) { return CGROUP_SUPER_MAGIC; }

#endif
