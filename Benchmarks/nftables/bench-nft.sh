#!/usr/bin/env bash
# Linx's nf_tables reconciler on the real kernel against `nft` for a table
# of COUNT rules, in one run:
#
#   sudo Benchmarks/nftables/bench-nft.sh [COUNT=10000] [REPEATS=5]
#
# In a fresh namespace (linx-nft-<pid>, always deleted on exit), the table
# `inet linx` with one base chain (filter input) holding COUNT rules
# `ip saddr 10.A.B.C tcp dport P accept`. Medians over REPEATS, seconds:
# - cold:  `nft -f FILE` creating the table vs a Linx reconcile pass
#          creating it (a new reconciler: validation, observe, diff, one
#          transaction);
# - no-op: `nft list table inet linx` vs a Linx pass that finds nothing to do
#          (observe + diff), five back to back per repetition.
# nft's figures include starting the process; Linx's are timed inside one
# process (libnftables, the same parser and printer nft uses).
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
  echo "  chain input {"
  echo "    type filter hook input priority 0; policy accept;"
  awk -v n="$COUNT" 'BEGIN { for (i = 0; i < n; i++)
    printf "    ip saddr 10.%d.%d.%d tcp dport %d accept\n", 100 + int(i / 62500), int(i / 250) % 250, i % 250 + 1, 1024 + i % 50000 }'
  echo "  }"
  echo "}"
} > "$WORK/table.nft"

now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
nftns() { ip netns exec "$NS" nft "$@"; }

for _ in $(seq "$REPEATS"); do
  t0=$(now); nftns -f "$WORK/table.nft"; t1=$(now)
  echo "$t1 - $t0" | bc >> "$WORK/nft_f"
  for _ in 1 2 3 4 5; do
    t0=$(now); nftns list table inet linx > /dev/null; t1=$(now)
    echo "$t1 - $t0" | bc >> "$WORK/nft_list"
  done
  [ "$(nftns -a list chain inet linx input | grep -c ' handle ')" -gt "$COUNT" ] || { echo "nft -f did not add $COUNT rules" >&2; exit 1; }
  nftns delete table inet linx
done
NFT_F=$(median < "$WORK/nft_f")
NFT_LIST=$(median < "$WORK/nft_list")

"$HERE/.build/release/NftBench" "$NS" "$COUNT" "$REPEATS" > "$WORK/linx"
cat "$WORK/linx" >&2
grep -q '^error' "$WORK/linx" && exit 1
value() { awk -v k="$1" '$1 == k { print $2 }' "$WORK/linx"; }
COLD=$(value linx_cold_pass)
NOOP=$(value linx_noop_pass)
PLAN=$(value linx_plan_validating)

ratio() { echo "scale=2; $1 / $2" | bc; }
cat <<REPORT
rules: $COUNT, repeats: $REPEATS (medians, seconds), kernel $(uname -r), $(nft --version)
nft -f (create the table):      $NFT_F
linx cold pass:                 $COLD   ($(ratio "$COLD" "$NFT_F")x nft -f; goal <= 1.0x)
linx plan (validation alone):   $PLAN   ($(ratio "$PLAN" "$NFT_F")x nft -f)
nft list table inet linx:       $NFT_LIST
linx no-op pass:                $NOOP   ($(ratio "$NOOP" "$NFT_LIST")x nft list; goal <= 2x)
REPORT
