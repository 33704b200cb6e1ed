#!/usr/bin/env bash
# ReconcileLoop on the real kernel: how long an owned route stays deleted.
#
#   sudo Benchmarks/loop-kernel/bench-loop.sh [COUNT=1000] [REPEATS=21]
#
# In a fresh namespace (linx-loop-bench-<pid>, always deleted on exit) with a
# veth pair and 10.0.0.2/24, a loop (RtnlSource on LinuxKernel, monitor on,
# timer 30 s) keeps COUNT /32 routes via 10.0.0.1 converged. Each repetition
# deletes one with RTM_DELROUTE from another socket (what `ip route del`
# sends) and times until the loop reports the pass that put it back: with
# the default debounce (100 ms, target: median under 150 ms) and with
# debounce 0 (target: under 20 ms). Prints median and p90, in seconds.
set -euo pipefail
COUNT=${1:-1000}
REPEATS=${2:-21}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/bench-netns.sh"
NS="linx-loop-bench-$$"

cleanup() { ip netns del "$NS" 2>/dev/null || true; }
trap cleanup EXIT

bench_require_root
bench_build_driver "$HERE"
bench_make_netns "$NS"

"$HERE/.build/release/LoopKernelBench" "$NS" "$COUNT" "$REPEATS"
