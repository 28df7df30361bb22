#!/usr/bin/env python3
"""Image import WITH unpacking, and snapshot churn: gantryd vs containerd 1.6, side by side.

Unpack: the archive from import.py (LAYERS gzip layers, each with many small files and one large
incompressible file) is imported and unpacked into overlayfs N times per side, alternating, each
run on an empty root. The same client (the real `ctr images import`, which drives
Snapshots.Prepare, Diff.Apply and Snapshots.Commit per layer) is used on both sides, so only the
server side differs; gantry's own importer is timed too. Every run checks the unpacked tree
(file count of the top snapshot) so a fast wrong answer cannot win.

Churn: snapshot_churn (built with the tests) does Prepare + Mounts + Remove of a snapshot on the
image's top layer ITER times over gRPC, against each daemon in turn.

usage: unpack.py [--runs N] [--layers L] [--small-files F] [--large-mib M] [--churn ITER] [--build DIR]
"""
import argparse, os, shutil, signal, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from importlib import import_module
imp = import_module("import")


def umount_under(d):
    subprocess.run(["sh", "-c", f"awk '$2 ~ \"^{d}\" {{print $2}}' /proc/mounts | sort -r | xargs -r umount -l"])


def count_files(sock, build, ns, chain_dir):
    """Files in the image as the top snapshot shows it: mounted through `gantry images mount`-like
    ctr commands (both daemons), counted with find."""
    mnt = tempfile.mkdtemp(prefix="gu-mnt-", dir="/tmp")
    try:
        r = subprocess.run(["ctr", "--address", sock, "-n", ns, "images", "mount",
                            "docker.io/library/benchimport:latest", mnt], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("mount failed: " + r.stderr.strip())
        n = int(subprocess.run(["sh", "-c", f"find {mnt} -type f | wc -l"], capture_output=True, text=True).stdout)
        subprocess.run(["ctr", "--address", sock, "-n", ns, "images", "unmount", "--rm", mnt], capture_output=True)
        return n
    finally:
        umount_under(mnt)
        shutil.rmtree(mnt, ignore_errors=True)


def one(kind, client, archive, build, churn):
    d = tempfile.mkdtemp(prefix="gu-", dir="/var/tmp")
    p = None
    try:
        p, sock = imp.start(kind, d, build)
        if client == "ctr":
            argv = ["ctr", "--address", sock, "-n", "bench", "images", "import", archive]
        else:
            argv = [os.path.join(build, "bin", "gantry"), "--address", sock, "-n", "bench", "images", "import", archive]
        subprocess.run(["sync"])
        t0 = time.monotonic()
        r = subprocess.run(argv, capture_output=True, text=True)
        dt = time.monotonic() - t0
        if r.returncode != 0:
            raise RuntimeError(f"{kind}/{client} import failed: {r.stderr.strip()}")
        files = count_files(sock, build, "bench", None)
        churn_s = None
        if churn:
            top = subprocess.run(["ctr", "--address", sock, "-n", "bench", "snapshots", "ls"],
                                 capture_output=True, text=True).stdout.split("\n")
            keys = [l.split()[0] for l in top[1:] if l.strip()]
            parents = {l.split()[1] for l in top[1:] if l.strip() and len(l.split()) > 2}
            leaf = [k for k in keys if k not in parents][0]
            r = subprocess.run([os.path.join(build, "bin", "snapshot_churn"), sock, "bench", "overlayfs", leaf, str(churn)],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"{kind} churn failed: {r.stderr.strip()}")
            churn_s = float(r.stdout.strip())
        return dt, files, churn_s
    finally:
        if p:
            p.send_signal(signal.SIGTERM); p.wait(timeout=30)
        umount_under(d)
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--layers", type=int, default=5)
    ap.add_argument("--small-files", type=int, default=8000)
    ap.add_argument("--large-mib", type=int, default=32)
    ap.add_argument("--churn", type=int, default=200)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "..", "build"))
    a = ap.parse_args()
    cache = f"/tmp/gantry-bench-import-{a.layers}-{a.small_files}-{a.large_mib}.tar"
    if not os.path.exists(cache):
        print(f"building {cache} ...", file=sys.stderr)
        imp.make_archive(cache, a.layers, a.small_files, a.large_mib)
    size = os.path.getsize(cache) / (1 << 20)
    sides = [("gantryd + ctr", "gantryd", "ctr"), ("containerd + ctr", "containerd", "ctr"),
             ("gantryd + gantry", "gantryd", "gantry")]
    res = {s[0]: [] for s in sides}
    churn = {s[0]: [] for s in sides}
    files = {}
    for _ in range(a.runs):
        for name, kind, client in sides:
            dt, n, c = one(kind, client, cache, a.build, a.churn if client == "ctr" else 0)
            res[name].append(dt)
            files.setdefault(name, set()).add(n)
            if c is not None:
                churn[name].append(c)
    print(f"import + unpack (overlayfs) of a {size:.0f} MiB, {a.layers}-layer archive, median of {a.runs}:")
    med = {n: statistics.median(v) for n, v in res.items()}
    for n, v in med.items():
        print(f"  {n:<20} {v * 1000:8.0f} ms  ({size / v:6.0f} MiB/s)  files seen: {sorted(files[n])}")
    if len({tuple(sorted(v)) for v in files.values()}) != 1:
        print("WARNING: the daemons unpacked different trees")
    c = med["containerd + ctr"]
    print(f"ratio: same client (ctr), gantryd unpacks {c / med['gantryd + ctr']:.2f}x containerd's speed; "
          f"gantry's own importer {c / med['gantryd + gantry']:.2f}x")
    if a.churn:
        g = statistics.median(churn["gantryd + ctr"]); k = statistics.median(churn["containerd + ctr"])
        print(f"snapshot churn (Prepare+Mounts+Remove over gRPC) x{a.churn}: gantryd {g / a.churn * 1e3:.2f} ms/op, "
              f"containerd {k / a.churn * 1e3:.2f} ms/op, ratio {k / g:.2f}x")


if __name__ == "__main__":
    main()
