// libnl-3 and libnl-route-3: used by LinxLinux to build and parse rtnetlink
// messages. Headers come from Debian's libnl-3-dev / libnl-route-3-dev.
// No _GNU_SOURCE here: this module shares glibc's headers with Swift's own
// Glibc module, and a different feature set changes struct layouts (fd_set)
// so that a clean build fails with "not present in definition". The GNU-only
// calls go through raw syscalls in linx_helpers.h instead.
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/rtnl.h>
#include <linux/rtnetlink.h>
#include <linux/netlink.h>
#include "linx_helpers.h"
