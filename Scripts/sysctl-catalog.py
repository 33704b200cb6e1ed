#!/usr/bin/env python3
"""Generates the simulator's sysctl catalog from this machine's kernel.

Run as root:  python3 Scripts/sysctl-catalog.py
It never touches the host's own settings: everything happens inside a
throwaway network namespace (`linx-catalog-PID`, always deleted) that holds
lo and a veth pair v0/v1, like a namespace `ip netns add` makes. Inside it,
every file under /proc/sys/net is read (value, mode) and every writable one
is probed: integer files get a binary search for the smallest and largest
value they accept, and each probe's read-back is kept to spot rounding
(milliseconds stored as jiffies). Every probe is undone before the next.

Writes Scripts/sysctl-catalog/linux-<release>.tsv (the data) and
Sources/LinxKernelSim/SysctlCatalogData.swift (the same data as Swift).
"""
import errno, os, subprocess, sys, json

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PER_LINK = [("net/ipv4/conf", "v0"), ("net/ipv6/conf", "v0"), ("net/ipv4/neigh", "v0"), ("net/ipv6/neigh", "v0")]

PROBE = r'''
import os, sys, errno, json
ROOT = "/proc/sys/"
def read(path):
    try:
        with open(ROOT + path) as f: return f.read().rstrip("\n")
    except OSError as e: return "!" + errno.errorcode[e.errno]
def write(path, value):
    try:
        fd = os.open(ROOT + path, os.O_WRONLY)
        try: os.write(fd, value.encode())
        finally: os.close(fd)
        return None
    except OSError as e: return errno.errorcode[e.errno]
def is_int(text):
    try: int(text); return True
    except ValueError: return False
out = []
paths = []
boot = {}
for base, dirs, files in os.walk(ROOT + "net"):
    for name in files: paths.append(os.path.join(base, name)[len(ROOT):])
paths.sort()
# Every boot value first: probing one file can change another (unres_qlen and
# unres_qlen_bytes, gc_min_interval and its _ms twin are one setting).
for path in paths: boot[path] = read(path)
skip_probe = set(json.loads(sys.argv[1]))
for path in paths:
    mode = os.stat(ROOT + path).st_mode & 0o777
    value = read(path)
    entry = {"path": path, "mode": mode, "value": boot[path]}
    fields = value.split("\t") if not value.startswith("!") else []
    if fields and all(is_int(f) for f in fields):
        entry["kind"] = "ints"; entry["count"] = len(fields)
    else:
        entry["kind"] = "string"
    if mode & 0o200 and entry["kind"] == "ints" and path not in skip_probe and not value.startswith("!"):
        count = entry["count"]
        def accepts(n):
            err = write(path, "\t".join([str(n)] * count))
            back = read(path)
            write(path, value)
            return err is None, back
        lo_ok, _ = accepts(-2147483648)
        hi_ok, _ = accepts(4294967295)
        # largest accepted: search up from the current value's first field
        start = int(fields[0])
        def search(good, bad):  # good accepted, bad refused; finds the boundary
            while abs(bad - good) > 1:
                mid = (good + bad) // 2
                if accepts(mid)[0]: good = mid
                else: bad = mid
            return good
        if accepts(start)[0]:
            entry["max"] = 4294967295 if hi_ok else search(start, 4294967296 if accepts(2147483647)[0] else 2147483648)
            entry["min"] = -2147483648 if lo_ok else search(start, -2147483649)
        # rounding: the read-back of a few in-range values
        backs = {}
        for n in (1, 7, 1001, 3):
            if entry.get("min", 0) <= n <= entry.get("max", -1):
                ok, back = accepts(n)
                if ok: backs[str(n)] = back.split("\t")[0]
        entry["readback"] = backs
    out.append(entry)
print(json.dumps(out))
'''

def run(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout

def main():
    if os.geteuid() != 0:
        sys.exit("sysctl-catalog: needs root (it works in a throwaway network namespace)")
    release = os.uname().release
    ns = f"linx-catalog-{os.getpid()}"
    run("ip", "netns", "add", ns)
    try:
        run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
        # Never probed: nf_hooks_lwtunnel flips a machine-wide static key that
        # cannot be turned off again (a probe would change the host). Its boot
        # value read here is the host's history (1 once anything turned it
        # on); the simulator takes the fresh-boot 0 from SysctlSpec's
        # hand-modelled handlers instead.
        skip = ["net/netfilter/nf_hooks_lwtunnel"]
        data = json.loads(run("ip", "netns", "exec", ns, "python3", "-c", PROBE, json.dumps(skip)))
    finally:
        subprocess.run(["ip", "netns", "del", ns])
    rows = []
    for e in data:
        path = e["path"]
        parts = path.split("/")
        if len(parts) >= 4 and "/".join(parts[:3]) in dict(PER_LINK) and parts[3] in ("v1", "lo"):
            continue  # lo and v1 repeat v0's template
        if len(parts) >= 4 and "/".join(parts[:3]) in dict(PER_LINK) and parts[3] == "v0":
            path = "/".join(parts[:3] + ["IFACE"] + parts[4:])
        rows.append((path, e))
    os.makedirs(os.path.join(HERE, "sysctl-catalog"), exist_ok=True)
    tsv = os.path.join(HERE, "sysctl-catalog", f"linux-{release}.tsv")
    with open(tsv, "w") as f:
        f.write(f"# sysctl catalog of Linux {release}, generated by Scripts/sysctl-catalog.py in a throwaway netns\n")
        f.write("# path\tmode\tkind\tcount\tmin\tmax\treadback\tvalue\n")
        for path, e in rows:
            f.write("\t".join([path, oct(e["mode"]), e["kind"], str(e.get("count", "")), str(e.get("min", "")),
                               str(e.get("max", "")), json.dumps(e.get("readback", {}), sort_keys=True),
                               json.dumps(e["value"])]) + "\n")
    swift = os.path.join(REPO, "Sources", "LinxKernelSim", "SysctlCatalogData.swift")
    with open(swift, "w") as f:
        f.write("// Generated by Scripts/sysctl-catalog.py from Linux %s; do not edit.\n" % release)
        f.write("// Regenerate as root: python3 Scripts/sysctl-catalog.py\n\n")
        f.write("/// The `net.` sysctl files of the reference kernel, read and probed in a\n")
        f.write("/// fresh network namespace (lo plus a veth, whose directories stand for\n")
        f.write("/// every link as `IFACE`).\n")
        f.write("enum SysctlCatalogData {\n")
        f.write("    /// The kernel release the data was taken from.\n")
        f.write("    static let release = %s\n\n" % json.dumps(release))
        f.write("    /// path, mode, kind (i: integers, s: string), integer count, min, max (nil when\n")
        f.write("    /// unprobed), read-back of 1001 (rounding), boot value.\n")
        f.write("    static let entries: [SysctlCatalogEntry] = [\n")
        for path, e in rows:
            def opt(v): return "nil" if v is None else str(v)
            back = e.get("readback", {}).get("1001")
            f.write("        .init(%s, 0o%o, %s, %d, %s, %s, %s, %s),\n" % (
                json.dumps(path), e["mode"], ".ints" if e["kind"] == "ints" else ".string", e.get("count", 0),
                opt(e.get("min")), opt(e.get("max")), "nil" if back is None else json.dumps(back), json.dumps(e["value"])))
        f.write("    ]\n}\n")
    print(f"sysctl-catalog: {len(rows)} entries from Linux {release} -> {tsv}, {swift}")

main()
