# Shared by the real-kernel benchmark scripts (source it): the root check,
# the release build of a script's driver package, and the throwaway
# namespace every one of them measures in.

# Exits unless running as root.
bench_require_root() {
    [ "$(id -u)" = 0 ] || { echo "needs root (creates a network namespace)" >&2; exit 1; }
}

# Builds the driver package in directory $1, release mode.
bench_build_driver() {
    echo "building the driver (release)..." >&2
    (cd "$1" && swift build -c release >/dev/null)
}

# Creates namespace $1 with lo up and a veth pair v0/v1 (both up), and
# 10.0.0.2/24 on v0, so routes via 10.0.0.1 are reachable. The caller's
# EXIT trap deletes it.
bench_make_netns() {
    ip netns add "$1"
    ip -n "$1" link set lo up
    ip -n "$1" link add v0 type veth peer name v1
    ip -n "$1" link set v0 up
    ip -n "$1" link set v1 up
    ip -n "$1" addr add 10.0.0.2/24 dev v0
}
