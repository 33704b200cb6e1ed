// libnl-3 and libnl-route-3: used by LinxLinux to build and parse rtnetlink
// messages. Headers come from Debian's libnl-3-dev / libnl-route-3-dev.
// _GNU_SOURCE first: setns and recvmmsg are GNU extensions.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
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
