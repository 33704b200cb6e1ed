#!/usr/bin/env bash
# `linx apply` of a document whose only section declares a new nf_tables
# table of COUNT rules, against `nft -f` of the same table, process start to
# exit, in one fresh namespace (linx-nftapply-<pid>, deleted on exit):
#
#   sudo COUNT=10000 ROUNDS=5 Benchmarks/nftables/bench-nft-apply.sh LINX [LINX...]
#
# The table is bench-nft.sh's (`inet linx`, one filter input chain of COUNT
# `ip saddr 10.A.B.C tcp dport P accept` rules, the marker comment), as an
# nft file and as a linx document. Each round runs `nft -f` (under `ip netns
# exec`) and `LINX apply DOC --netns NS` for every LINX given (old and new
# binaries, say), the starting command rotating each round; every run is
# followed by `nft delete table inet linx` and a fresh state file. The first
# round checks that each LINX leaves the listing `nft -f` leaves. Prints each
# command's median wall time and median CPU time (user + sys, GNU time) and
# their ratios to nft -f's. Needs GNU time at /usr/bin/time.
set -euo pipefail
COUNT=${COUNT:-10000}
ROUNDS=${ROUNDS:-5}
[ $# -ge 1 ] || { echo "usage: $0 LINX [LINX...]" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/bench-netns.sh"
NS="linx-nftapply-$$"
WORK=$(mktemp -d /tmp/linx-nftapply.XXXXXX)
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
bench_require_root
bench_make_netns "$NS"

rules() { awk -v n="$COUNT" -v p="$1" 'BEGIN { for (i = 0; i < n; i++)
  printf "%sip saddr 10.%d.%d.%d tcp dport %d accept\n", p, 100 + int(i / 62500), int(i / 250) % 250, i % 250 + 1, 1024 + i % 50000 }'; }
{ echo "table inet linx {"; echo "  comment \"linx\";"; echo "  chain input {"
  echo "    type filter hook input priority 0; policy accept;"; rules "    "; echo "  }"; echo "}"; } > "$WORK/table.nft"
{ echo "nftables:"; echo "  tables:"; echo "    inet linx:"; echo "      chains:"; echo "        input:"
  echo "          hook: input"; echo "          policy: accept"; echo "          rules:"; rules "            - "; } > "$WORK/doc.yaml"

names=(nft); cmds=("ip netns exec $NS nft -f $WORK/table.nft")
for linx in "$@"; do names+=("$linx"); cmds+=("$linx apply $WORK/doc.yaml --netns $NS --state $WORK/state.json"); done
listing() { ip netns exec "$NS" nft list table inet linx; }
reset() { ip netns exec "$NS" nft delete table inet linx 2>/dev/null || true; rm -f "$WORK"/state.json*; }

echo "rules: $COUNT, rounds: $ROUNDS, kernel $(uname -r), $(nft --version), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
reset
for ((round = 0; round < ROUNDS; round++)); do
  for ((k = 0; k < ${#cmds[@]}; k++)); do
    i=$(( (k + round) % ${#cmds[@]} ))
    /usr/bin/time -f "%e %U %S" -o "$WORK/t" ${cmds[$i]} > /dev/null 2> "$WORK/err" \
      || { echo "failed: ${cmds[$i]}" >&2; cat "$WORK/err" >&2; exit 1; }
    if [ "$round" = 0 ]; then listing > "$WORK/listing.$i"; fi
    tail -1 "$WORK/t" >> "$WORK/times.$i"
    reset
  done
done
for ((i = 1; i < ${#cmds[@]}; i++)); do
  cmp -s "$WORK/listing.0" "$WORK/listing.$i" || { echo "${names[$i]} leaves another table than nft -f" >&2; exit 1; }
done
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
wall0=$(awk '{ print $1 }' "$WORK/times.0" | median); cpu0=$(awk '{ print $2 + $3 }' "$WORK/times.0" | median)
for ((i = 0; i < ${#cmds[@]}; i++)); do
  wall=$(awk '{ print $1 }' "$WORK/times.$i" | median); cpu=$(awk '{ print $2 + $3 }' "$WORK/times.$i" | median)
  awk -v n="${names[$i]}" -v w="$wall" -v c="$cpu" -v w0="$wall0" -v c0="$cpu0" -v r="$ROUNDS" 'BEGIN {
    printf "%-28s wall %.3f s (%.2fx nft -f)  cpu %.3f s (%.2fx)  median of %d\n", n, w, w / w0, c, c / c0, r }'
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
