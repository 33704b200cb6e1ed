#!/usr/bin/env bash
# The built `linx` command (process start and file parse included) against
# `ip` on the real kernel, for COUNT routes, in one run:
#
#   sudo Benchmarks/linx-cli/bench-linx.sh [COUNT=65536] [REPEATS=5]
#
# In a fresh namespace (linx-cli-<pid>, always deleted on exit) with a veth
# pair and 10.0.0.2/24, from a desired-state file of COUNT /32 routes via
# 10.0.0.1 (YAML, and the same as JSON). Each `linx` run is paired with a
# run of its reference just before it (both fresh processes, the same
# routes, the same namespace state), REPEATS x 3 pairs of each kind, so a
# slow or fast moment of the machine lands on both sides of a pair. Ratios
# are the median of the pairs' ratios (their spread in brackets); times
# are medians, seconds:
# - cold:  `ip -batch` adding them vs `linx apply FILE` creating them (no
#          state file; routes flushed before each);
# - no-op: `ip route show proto 76` vs `linx apply FILE` finding nothing to do;
# - peak RSS of the no-op and cold `linx apply` (GNU time's max resident set);
# - parse only: `linx plan --backend sim` of the file (simulated host, no
#   routes of ours there, so the plan also diffs COUNT creates);
# - a 50 MB file: `linx plan` of it, its exit, time and peak RSS.
set -euo pipefail
COUNT=${1:-65536}
REPEATS=${2:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/../lib/bench-netns.sh"
NS="linx-cli-$$"
WORK=$(mktemp -d /tmp/linx-cli-bench.XXXXXX)
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

bench_require_root
echo "building linx (release)..." >&2
(cd "$ROOT" && swift build -c release --product linx >/dev/null)
LINX="$ROOT/.build/release/linx"
bench_make_netns "$NS"

dst() { awk -v n="$1" -v fmt="$2" 'BEGIN { for (i = 0; i < n; i++)
  printf fmt, 100 + int(i / 62500), int(i / 250) % 250, i % 250 + 1 }'; }
{ echo "rtnl:"; echo "  routes:"; dst "$COUNT" '    - { destination: 10.%d.%d.%d/32, gateway: 10.0.0.1 }\n'; } > "$WORK/routes.yaml"
{ printf '{"rtnl": {"routes": [\n'; dst "$COUNT" '{"destination": "10.%d.%d.%d/32", "gateway": "10.0.0.1"},\n' | sed '$ s/,$//'; printf ']}}\n'; } > "$WORK/routes.json"
dst "$COUNT" 'route add 10.%d.%d.%d/32 via 10.0.0.1 proto 76\n' > "$WORK/add.batch"

now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
flush() { ip -n "$NS" route flush proto 76; }
ours() { ip -n "$NS" route show proto 76 | wc -l; }
# Runs a command, appends its wall time to file $1 and its peak RSS (KiB) to $1.rss.
timed() {
  local out=$1; shift
  local t0 t1
  t0=$(now)
  /usr/bin/time -f %M -o "$WORK/rss" "$@" > /dev/null
  t1=$(now)
  echo "$t1 - $t0" | bc >> "$out"
  tail -1 "$WORK/rss" >> "$out.rss"
}

for _ in $(seq "$REPEATS"); do
  for format in yaml json; do
    state="$WORK/state.$format.json"
    for _ in 1 2 3; do
      flush
      timed "$WORK/ip_add_$format" ip -n "$NS" -batch "$WORK/add.batch"
      flush
      rm -f "$state"
      timed "$WORK/linx_cold_$format" "$LINX" apply "$WORK/routes.$format" --netns "$NS" --state "$state"
      [ "$(ours)" = "$COUNT" ] || { echo "linx apply did not add $COUNT routes" >&2; exit 1; }
    done
    for _ in 1 2 3; do
      timed "$WORK/ip_show_$format" ip -n "$NS" route show proto 76
      timed "$WORK/linx_noop_$format" "$LINX" apply "$WORK/routes.$format" --netns "$NS" --state "$state"
    done
    timed "$WORK/linx_plan_$format" sh -c "'$LINX' plan '$WORK/routes.$format' --backend sim; [ \$? = 2 ]"
  done
done
[ "$(ours)" = "$COUNT" ] || { echo "the no-op applies changed the routes" >&2; exit 1; }

# A 50 MB file: refused up front (HostDocument.maximumFileSize), in bounded memory.
dst 880000 '    - { destination: 10.%d.%d.%d/32, gateway: 10.0.0.1 }\n' | { echo "rtnl:"; echo "  routes:"; cat; } > "$WORK/big.yaml"
BIG_SIZE=$(stat -c %s "$WORK/big.yaml")
t0=$(now)
set +e
/usr/bin/time -f %M -o "$WORK/rss" "$LINX" plan "$WORK/big.yaml" --backend sim > /dev/null 2> "$WORK/big.err"
BIG_EXIT=$?
set -e
t1=$(now)
BIG_TIME=$(echo "$t1 - $t0" | bc)
BIG_RSS=$(tail -1 "$WORK/rss")

m() { median < "$WORK/$1"; }
mib() { echo "scale=1; $(median < "$WORK/$1.rss") / 1024" | bc; }
# The median of the pairs' ratios (run i of $1 over run i of its reference
# $2), with their lowest and highest: "0.84x (0.80-0.91, 9 pairs)".
paired() {
  paste "$WORK/$1" "$WORK/$2" | awk '{ printf "%.4f\n", $1 / $2 }' | sort -g > "$WORK/ratios"
  awk '{ v[NR] = $1 } END { printf "%.2fx (%.2f-%.2f, %d pairs)", v[int((NR + 1) / 2)], v[1], v[NR], NR }' "$WORK/ratios"
}
cat <<REPORT
routes: $COUNT, repeats: $REPEATS (medians, seconds; process start included), kernel $(uname -r), $(ip -V)
file sizes: YAML $(stat -c %s "$WORK/routes.yaml") bytes, JSON $(stat -c %s "$WORK/routes.json") bytes
ip -batch adds:              $(m ip_add_yaml) (paired with YAML), $(m ip_add_json) (with JSON)
linx apply, cold, YAML:      $(m linx_cold_yaml)   $(paired linx_cold_yaml ip_add_yaml) ip -batch; target <= 1.0x   peak $(mib linx_cold_yaml) MiB
linx apply, cold, JSON:      $(m linx_cold_json)   $(paired linx_cold_json ip_add_json) ip -batch   peak $(mib linx_cold_json) MiB
ip route show proto 76:      $(m ip_show_yaml) (paired with YAML), $(m ip_show_json) (with JSON)
linx apply, no-op, YAML:     $(m linx_noop_yaml)   $(paired linx_noop_yaml ip_show_yaml) ip route show; target <= 2x   peak $(mib linx_noop_yaml) MiB (target < 64)
linx apply, no-op, JSON:     $(m linx_noop_json)   $(paired linx_noop_json ip_show_json) ip route show   peak $(mib linx_noop_json) MiB
linx plan --backend sim:     YAML $(m linx_plan_yaml), JSON $(m linx_plan_json)   peak $(mib linx_plan_yaml) / $(mib linx_plan_json) MiB
50 MB file ($BIG_SIZE bytes):  exit $BIG_EXIT in $BIG_TIME s, peak $(echo "scale=1; $BIG_RSS / 1024" | bc) MiB: $(head -c 200 "$WORK/big.err")
REPORT
