#!/usr/bin/env bash
# Linx on the real kernel against `ip -batch` (and pyroute2) for COUNT routes.
#
#   sudo Benchmarks/kernel/bench-routes.sh [COUNT=10000] [REPEATS=11]
#
# In a fresh namespace (linx-bench-<pid>, always deleted on exit) with a veth
# pair and 10.0.0.2/24, each tool adds the same COUNT /32 routes via
# 10.0.0.1 with protocol 76. Reported: medians over REPEATS, in seconds.
# - cold:  `ip -batch` adding them vs a Linx reconcile pass creating them
#          (observe + diff + pipelined apply), and the backend's execute alone;
# - no-op: `ip route show proto 76` dumping them vs a Linx pass that finds
#          nothing to do (dumps links, addresses, routes; diffs 10,000);
#          five of each per repetition, back to back.
# ip's figures include starting the process (about 1 ms); Linx's are timed
# inside one process. pyroute2 (pip install pyroute2) is run once if present
# or installable: NetNS.route('add') one by one, then get_routes(proto=76).
set -euo pipefail
COUNT=${1:-10000}
REPEATS=${2:-11}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/bench-netns.sh"
NS="linx-bench-$$"
WORK=$(mktemp -d /tmp/linx-bench.XXXXXX)

cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

bench_require_root
bench_build_driver "$HERE"
bench_make_netns "$NS"

# The same destinations as KernelBench: 10.A.B.C/32.
awk -v n="$COUNT" 'BEGIN { for (i = 0; i < n; i++)
  printf "route add 10.%d.%d.%d/32 via 10.0.0.1 proto 76\n", 100 + int(i / 62500), int(i / 250) % 250, i % 250 + 1 }' \
  > "$WORK/add.batch"

now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
flush() { ip -n "$NS" route flush proto 76; }

for _ in $(seq "$REPEATS"); do
  t0=$(now); ip -n "$NS" -batch "$WORK/add.batch"; t1=$(now)
  echo "$t1 - $t0" | bc >> "$WORK/ip_add"
  for _ in 1 2 3 4 5; do
    t0=$(now); ip -n "$NS" route show proto 76 > /dev/null; t1=$(now)
    echo "$t1 - $t0" | bc >> "$WORK/ip_show"
  done
  [ "$(ip -n "$NS" route show proto 76 | wc -l)" = "$COUNT" ] || { echo "ip -batch did not add $COUNT routes" >&2; exit 1; }
  flush
done
IP_ADD=$(median < "$WORK/ip_add")
IP_SHOW=$(median < "$WORK/ip_show")

"$HERE/.build/release/KernelBench" "$NS" "$COUNT" "$REPEATS" > "$WORK/linx"
cat "$WORK/linx" >&2
value() { awk -v k="$1" '$1 == k { print $2 }' "$WORK/linx"; }
COLD=$(value linx_cold_pass)
NOOP=$(value linx_noop_pass)
EXEC=$(value linx_execute_adds)

PYROUTE2="not installed"
if python3 -c 'import pyroute2' 2>/dev/null || pip install --quiet pyroute2 >/dev/null 2>&1; then
  flush
  PYROUTE2=$(python3 - "$NS" "$COUNT" <<'PY'
import sys, time
from pyroute2 import NetNS
ns, count = sys.argv[1], int(sys.argv[2])
dsts = ["10.%d.%d.%d" % (100 + i // 62500, i // 250 % 250, i % 250 + 1) for i in range(count)]
with NetNS(ns) as ipr:
    t0 = time.perf_counter()
    for d in dsts:
        ipr.route("add", dst=d, dst_len=32, gateway="10.0.0.1", proto=76)
    t1 = time.perf_counter()
    routes = ipr.get_routes(proto=76)
    t2 = time.perf_counter()
    assert len(routes) == count, len(routes)
print("%.3f %.3f" % (t1 - t0, t2 - t1))
PY
)
  flush
fi

ratio() { echo "scale=2; $1 / $2" | bc; }
cat <<REPORT
routes: $COUNT, repeats: $REPEATS (medians, seconds), kernel $(uname -r), $(ip -V)
ip -batch adds:              $IP_ADD
linx cold pass:              $COLD   ($(ratio "$COLD" "$IP_ADD")x ip -batch; target <= 1.2x, aim < 1.0x)
linx execute (backend only): $EXEC   ($(ratio "$EXEC" "$IP_ADD")x ip -batch)
ip route show proto 76:      $IP_SHOW
linx no-op pass:             $NOOP   ($(ratio "$NOOP" "$IP_SHOW")x ip route show; target <= 2x)
pyroute2 adds / get_routes:  $PYROUTE2
REPORT
