#!/usr/bin/env bash
# Linx's nf_tables reconciler on the real kernel against `nft` for a table
# of COUNT rules, in one run:
#
#   sudo Benchmarks/nftables/bench-nft.sh [COUNT=10000] [REPEATS=5]
#
# In a fresh namespace (linx-nft-<pid>, always deleted on exit), the table
# `inet linx` with one base chain (filter input) holding COUNT rules
# `ip saddr 10.A.B.C tcp dport P accept` and Linx's marker comment (so
# `nft -f` and Linx leave the same table). The driver (NftBench) runs each
# `nft` reference interleaved with the Linx pass it is compared with, and
# samples wall time, CPU time, run-queue wait, idle time and page faults
# (medians and ranges over REPEATS; 5 cold pairs per repetition; `nft`
# started inside the namespace, no `ip netns exec`): cold (`nft -f` vs a cold reconcile
# pass), no-op (`nft list table` vs a pass with nothing to do), plan (a
# plan of the absent table vs `nft -c -f`), and set cold (`nft -f` of the
# table holding only a set of COUNT IPv4 addresses vs a cold pass creating
# it). See its header for details.
set -euo pipefail
COUNT=${1:-10000}
REPEATS=${2:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/bench-netns.sh"
NS="linx-nft-$$"
WORK=$(mktemp -d /tmp/linx-nft-bench.XXXXXX)

cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

bench_require_root
bench_build_driver "$HERE"
bench_make_netns "$NS"

{
  echo "table inet linx {"
  echo "  comment \"linx\";"
  echo "  chain input {"
  echo "    type filter hook input priority 0; policy accept;"
  awk -v n="$COUNT" 'BEGIN { for (i = 0; i < n; i++)
    printf "    ip saddr 10.%d.%d.%d tcp dport %d accept\n", 100 + int(i / 62500), int(i / 250) % 250, i % 250 + 1, 1024 + i % 50000 }'
  echo "  }"
  echo "}"
} > "$WORK/table.nft"

# The same COUNT addresses as the elements of one set, in a table of their own.
{
  echo "table inet linx {"
  echo "  comment \"linx\";"
  echo "  set s {"
  echo "    type ipv4_addr;"
  echo "    elements = {"
  awk -v n="$COUNT" 'BEGIN { for (i = 0; i < n; i++)
    printf "      10.%d.%d.%d%s\n", 100 + int(i / 62500), int(i / 250) % 250, i % 250 + 1, (i < n - 1 ? "," : "") }'
  echo "    }"
  echo "  }"
  echo "}"
} > "$WORK/set.nft"

echo "rules: $COUNT, repeats: $REPEATS, kernel $(uname -r), $(nft --version), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$HERE/.build/release/NftBench" "$NS" "$COUNT" "$REPEATS" "$WORK/table.nft" "$WORK/set.nft"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
