#!/usr/bin/env python3
"""Image import without unpacking: gantryd vs containerd 1.6, side by side in one run.

Builds (once, cached) a multi-layer OCI archive: LAYERS gzip layers, each with many small files
and one large incompressible file. Then, alternating between the daemons, imports it N times
with the same client, the real `ctr images import --no-unpack`, so only the server side differs;
gantry's own `gantry images import --no-unpack` is timed too. Each run starts from an empty root.

usage: import.py [--runs N] [--layers L] [--small-files F] [--large-mib M] [--build DIR]
"""
import argparse, gzip, hashlib, io, json, os, shutil, signal, socket, statistics, subprocess, sys, tarfile, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def make_archive(path, layers, small_files, large_mib):
    rnd = open("/dev/urandom", "rb")
    descs, diff_ids, blobs = [], [], []
    for n in range(layers):
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
            d = tarfile.TarInfo(f"layer{n}"); d.type = tarfile.DIRTYPE; d.mode = 0o755; t.addfile(d)
            for i in range(small_files):
                data = (f"file {n}/{i}\n" * (1 + i % 200)).encode()
                ti = tarfile.TarInfo(f"layer{n}/d{i % 64}/f{i}"); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
            big = rnd.read(large_mib << 20)
            ti = tarfile.TarInfo(f"layer{n}/big.bin"); ti.size = len(big); t.addfile(ti, io.BytesIO(big))
        diff = raw.getvalue()
        gz = gzip.compress(diff, compresslevel=1, mtime=0)
        diff_ids.append(sha(diff)); blobs.append(gz)
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(gz), "size": len(gz)})
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                      "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(cfg), "size": len(cfg)},
                      "layers": descs}).encode()
    name = "docker.io/library/benchimport:latest"
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(man), "size": len(man),
                            "annotations": {"io.containerd.image.name": name, "org.opencontainers.image.ref.name": "latest"}}]}
    tmp = path + ".tmp"
    with tarfile.open(tmp, "w") as t:
        def add(p, data):
            ti = tarfile.TarInfo(p); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add("index.json", json.dumps(index).encode())
        for b in [cfg, man] + blobs:
            add("blobs/sha256/" + hashlib.sha256(b).hexdigest(), b)
    os.rename(tmp, path)


def wait_socket(path, proc):
    for _ in range(20000):
        if proc.poll() is not None:
            raise RuntimeError("daemon exited")
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path); return
        except OSError:
            time.sleep(0.001)
        finally:
            s.close()
    raise RuntimeError("daemon did not serve")


def start(kind, d, build):
    sock = os.path.join(d, "d.sock")
    if kind == "gantryd":
        argv = [os.path.join(build, "bin", "gantryd"), "--root", f"{d}/root", "--state", f"{d}/state", "--address", sock,
                "--log-level", "warn"]
    else:
        with open(f"{d}/c.toml", "w") as f:
            f.write(f'version = 2\nroot = "{d}/root"\nstate = "{d}/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                    f'[grpc]\n  address = "{sock}"\n[ttrpc]\n  address = "{sock}.ttrpc"\n')
        argv = ["containerd", "--config", f"{d}/c.toml", "--log-level", "warn"]
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_socket(sock, p)
    return p, sock


def one(kind, client, archive, build):
    d = tempfile.mkdtemp(prefix="gi-", dir="/tmp")
    p = None
    try:
        p, sock = start(kind, d, build)
        if client == "ctr":
            argv = ["ctr", "--address", sock, "-n", "bench", "images", "import", "--no-unpack", archive]
        else:
            argv = [os.path.join(build, "bin", "gantry"), "--address", sock, "-n", "bench", "images", "import", "--no-unpack", archive]
        t0 = time.monotonic()
        r = subprocess.run(argv, capture_output=True, text=True)
        dt = time.monotonic() - t0
        if r.returncode != 0:
            raise RuntimeError(f"{kind}/{client} import failed: {r.stderr.strip()}")
        ls = subprocess.run(["ctr", "--address", sock, "-n", "bench", "images", "ls", "-q"], capture_output=True, text=True)
        if "benchimport" not in ls.stdout:
            raise RuntimeError(f"{kind}: image missing after import: {ls.stdout} {ls.stderr}")
        return dt
    finally:
        if p:
            p.send_signal(signal.SIGTERM); p.wait(timeout=20)
        subprocess.run(["sh", "-c", f"awk '$2 ~ \"^{d}\" {{print $2}}' /proc/mounts | sort -r | xargs -r umount -l"])
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--layers", type=int, default=5)
    ap.add_argument("--small-files", type=int, default=8000)
    ap.add_argument("--large-mib", type=int, default=32)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "..", "build"))
    a = ap.parse_args()
    cache = f"/tmp/gantry-bench-import-{a.layers}-{a.small_files}-{a.large_mib}.tar"
    if not os.path.exists(cache):
        print(f"building {cache} ...", file=sys.stderr)
        make_archive(cache, a.layers, a.small_files, a.large_mib)
    size = os.path.getsize(cache) / (1 << 20)
    sides = [("gantryd + ctr", "gantryd", "ctr"), ("containerd + ctr", "containerd", "ctr"),
             ("gantryd + gantry", "gantryd", "gantry")]
    res = {s[0]: [] for s in sides}
    for _ in range(a.runs):
        for name, kind, client in sides:
            res[name].append(one(kind, client, cache, a.build))
    print(f"import --no-unpack of a {size:.0f} MiB, {a.layers}-layer archive, median of {a.runs}:")
    med = {n: statistics.median(v) for n, v in res.items()}
    for n, v in med.items():
        print(f"  {n:<20} {v * 1000:8.0f} ms  ({size / v:6.0f} MiB/s)")
    c = med["containerd + ctr"]
    print(f"ratio: same client (ctr), gantryd is {c / med['gantryd + ctr']:.2f}x containerd's speed; "
          f"gantry's own importer {c / med['gantryd + gantry']:.2f}x")


if __name__ == "__main__":
    main()
