#!/usr/bin/env python3
"""Cold start to serving, and idle memory: gantryd vs containerd 1.6, side by side in one run.

Each daemon starts on a fresh temp root N times. "Serving" is the first moment its socket
accepts a connection after exec, confirmed by a Version RPC through the real `ctr`. Idle memory
is RSS and PSS (from /proc/PID/smaps_rollup) two seconds after serving. containerd runs twice:
with only CRI disabled (how people run it without Kubernetes), and with every plugin disabled
that gantryd does not have yet, the like-for-like comparison.

usage: startup.py [--runs N] [--gantryd PATH]   (run as root; needs Debian's containerd)
"""
import argparse, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_GANTRYD = os.path.join(HERE, "..", "..", "build", "bin", "gantryd")

# Plugins containerd 1.6 has and gantryd does not implement yet (issue 3 scope).
CONTAINERD_EXTRA = [
    "io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.native",
    "io.containerd.snapshotter.v1.overlayfs", "io.containerd.snapshotter.v1.zfs",
    "io.containerd.runtime.v1.linux", "io.containerd.runtime.v2.task", "io.containerd.monitor.v1.cgroups",
    "io.containerd.service.v1.tasks-service", "io.containerd.grpc.v1.tasks", "io.containerd.grpc.v1.containers",
    "io.containerd.grpc.v1.content", "io.containerd.grpc.v1.diff", "io.containerd.grpc.v1.events",
    "io.containerd.grpc.v1.images", "io.containerd.grpc.v1.leases", "io.containerd.grpc.v1.snapshots",
    "io.containerd.differ.v1.walking", "io.containerd.gc.v1.scheduler", "io.containerd.internal.v1.restart",
    "io.containerd.internal.v1.opt", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing",
    "io.containerd.nri.v1.nri", "io.containerd.sandbox.store.v1.local", "io.containerd.streaming.v1.manager",
]


def wait_socket(path, proc, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"daemon exited with {proc.returncode}")
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            return time.monotonic()
        except OSError:
            time.sleep(0.0005)
        finally:
            s.close()
    raise RuntimeError("daemon did not serve in time")


def memory(pid):
    rss = pss = 0
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    return rss / 1024, pss / 1024  # MiB


def one_run(kind, gantryd, disabled):
    d = tempfile.mkdtemp(prefix="gb-", dir="/tmp")
    sock = os.path.join(d, "d.sock")
    try:
        if kind == "gantryd":
            argv = [gantryd, "--root", f"{d}/root", "--state", f"{d}/state", "--address", sock,
                    "--log-level", "warn"]
        else:
            cfg = os.path.join(d, "config.toml")
            with open(cfg, "w") as f:
                f.write(f'version = 2\nroot = "{d}/root"\nstate = "{d}/state"\n')
                f.write("disabled_plugins = [" + ", ".join(f'"{p}"' for p in disabled) + "]\n")
                f.write(f'[grpc]\n  address = "{sock}"\n[ttrpc]\n  address = "{sock}.ttrpc"\n')
            argv = ["containerd", "--config", cfg, "--log-level", "warn"]
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t1 = wait_socket(sock, proc)
        v = subprocess.run(["ctr", "--address", sock, "version"], capture_output=True, text=True)
        if v.returncode != 0 or "Server:" not in v.stdout:
            raise RuntimeError(f"{kind} did not answer Version: {v.stderr}")
        time.sleep(2)
        rss, pss = memory(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        return (t1 - t0) * 1000, rss, pss
    finally:
        subprocess.run(["sh", "-c", f"awk '$2 ~ \"^{d}\" {{print $2}}' /proc/mounts | sort -r | xargs -r umount -l"])
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--gantryd", default=DEFAULT_GANTRYD)
    a = ap.parse_args()
    if not shutil.which("containerd"):
        sys.exit("containerd is not installed (apt-get install containerd)")
    sides = [("gantryd", "gantryd", []),
             ("containerd (cri off)", "containerd", ["io.containerd.grpc.v1.cri"]),
             ("containerd (like-for-like)", "containerd", CONTAINERD_EXTRA)]
    results = {name: [] for name, _, _ in sides}
    # Interleaved, so drift on a noisy machine hits every side alike.
    for _ in range(a.runs):
        for name, kind, disabled in sides:
            results[name].append(one_run(kind, a.gantryd, disabled))
    med = {n: tuple(statistics.median(r[i] for r in rs) for i in range(3)) for n, rs in results.items()}
    print(f"{'daemon':<28}{'serving ms':>12}{'idle RSS MiB':>14}{'idle PSS MiB':>14}   (median of {a.runs})")
    for n, (ms, rss, pss) in med.items():
        print(f"{n:<28}{ms:>12.1f}{rss:>14.1f}{pss:>14.1f}")
    g = med["gantryd"]
    for n in list(med)[1:]:
        c = med[n]
        print(f"ratio vs {n}: start {c[0] / g[0]:.1f}x faster, RSS {c[1] / g[1]:.1f}x smaller, "
              f"PSS {c[2] / g[2]:.1f}x smaller")


if __name__ == "__main__":
    main()
