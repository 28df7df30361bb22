#!/usr/bin/env python3
"""Running containers: gantryd vs containerd 1.6, side by side in one run, same client.

Four sides: {gantryd, containerd} x {containerd-shim-runc-v2, containerd-shim-gantry-v2}, all
driving runc. The client is always the real `ctr`, with the container's root filesystem given
as a directory (`ctr run --rootfs`), so the figures are the daemon's and the shim's work only:
  1. latency of `ctr run --rm ... /bin/true`, median of N (ctr's own ~37 ms included on all sides),
     and of `ctr run -d` alone (until the task runs);
  2. 50 sequential lifecycles (total wall time);
  3. 20 parallel `ctr run -d` starts (wall time until all 20 are running);
  4. memory with those 20 containers running: the daemon's and the shims' RSS and PSS
     (from /proc/PID/smaps_rollup), per container and total;
  5. the floor under every side: the same runc doing the same work with no daemon, no shim and no
     client (runc create, start, wait for the exit, delete, on ctr's own spec for the container),
     so that each stack's own cost is its latency minus that floor.

usage: run.py [--runs N] [--seq N] [--par N] [--build DIR]   (root; Debian's containerd and runc)
"""
import argparse, concurrent.futures as cf, os, shutil, signal, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from importlib import import_module
wait_socket = import_module("import").wait_socket  # one copy, shared with import.py


def smaps(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if parts and parts[0] in ("Rss:", "Pss:"):
                    out[parts[0][:-1]] = int(parts[1])
    except OSError:
        pass
    return out.get("Rss", 0), out.get("Pss", 0)


def cpu_ms(pid):
    """User plus system CPU time of `pid` itself (not its children), in ms."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def make_rootfs(d):
    r = os.path.join(d, "rootfs")
    for sub in ("bin", "proc", "dev", "sys", "tmp", "etc"):
        os.makedirs(os.path.join(r, sub), exist_ok=True)
    shutil.copy("/bin/busybox", os.path.join(r, "bin", "busybox"))
    for a in ("sh", "true", "sleep", "echo"):
        os.symlink("busybox", os.path.join(r, "bin", a))
    return r


class Side:
    def __init__(self, daemon, runtime, build):
        self.daemon, self.runtime, self.build = daemon, runtime, build
        self.dir = tempfile.mkdtemp(prefix="grb-", dir="/tmp")
        self.sock = os.path.join(self.dir, "d.sock")
        env = dict(os.environ)
        env["PATH"] = os.path.join(build, "bin") + ":" + env["PATH"]  # the gantry shim for containerd
        if daemon == "gantryd":
            argv = [os.path.join(build, "bin", "gantryd"), "--root", f"{self.dir}/root", "--state", f"{self.dir}/state",
                    "--address", self.sock, "--log-level", "warn"]
        else:
            with open(f"{self.dir}/c.toml", "w") as f:
                f.write(f'version = 2\nroot = "{self.dir}/root"\nstate = "{self.dir}/state"\n'
                        f'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "{self.sock}"\n'
                        f'[ttrpc]\n  address = "{self.sock}.ttrpc"\n')
            argv = ["containerd", "--config", f"{self.dir}/c.toml", "--log-level", "warn"]
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_socket(self.sock, self.proc)
        self.rootfs = make_rootfs(self.dir)
        self.ns = f"bench{os.getpid()}{daemon[0]}{'g' if 'gantry' in runtime else 'r'}"

    def ctr(self, *args, check=True):
        r = subprocess.run(["ctr", "--address", self.sock, "-n", self.ns, *args], capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"{self.daemon}/{self.runtime}: ctr {' '.join(args)}: {r.stderr.strip()}")
        return r

    def run_rm(self, cid):
        self.ctr("run", "--rm", "--runtime", self.runtime, "--rootfs", self.rootfs, cid, "/bin/true")

    def shim_pids(self):
        out = subprocess.run(["pgrep", "-f", f"namespace {self.ns} "], capture_output=True, text=True).stdout.split()
        return [int(p) for p in out]

    def stop(self):
        for t in self.ctr("task", "ls", "-q", check=False).stdout.split():
            self.ctr("task", "kill", "-s", "KILL", t, check=False)
        time.sleep(0.5)
        for t in self.ctr("task", "ls", "-q", check=False).stdout.split():
            self.ctr("task", "rm", "-f", t, check=False)
        for c in self.ctr("containers", "ls", "-q", check=False).stdout.split():
            self.ctr("containers", "rm", c, check=False)
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        subprocess.run(["sh", "-c", f"awk '$2 ~ \"^{self.dir}\" {{print $2}}' /proc/mounts | sort -r | xargs -r umount -l"])
        shutil.rmtree(self.dir, ignore_errors=True)


def runc_floor(side, runs):
    """Median of `runs` bare runc lifecycles on the spec ctr made for a container of `side`."""
    import ctypes, json
    side.ctr("containers", "create", "--runtime", side.runtime, "--rootfs", side.rootfs, "floorspec", "/bin/true")
    spec = json.loads(side.ctr("containers", "info", "--spec", "floorspec").stdout)
    side.ctr("containers", "rm", "floorspec")
    bundle = os.path.join(side.dir, "floor")
    os.makedirs(bundle, exist_ok=True)
    spec["root"]["path"] = side.rootfs
    spec["process"]["terminal"] = False
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: the container's init is ours to reap
    root = os.path.join(side.dir, "floor-runc")
    lat = []
    for i in range(runs):
        cid = f"floor{os.getpid()}-{i}"
        spec["linux"]["cgroupsPath"] = f"/floor/{cid}"
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump(spec, f)
        pidfile = os.path.join(bundle, "pid")
        t0 = time.monotonic()
        subprocess.run(["runc", "--root", root, "create", "--bundle", bundle, "--pid-file", pidfile, cid],
                       check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pid = int(open(pidfile).read())
        subprocess.run(["runc", "--root", root, "start", cid], check=True)
        os.waitpid(pid, 0)
        subprocess.run(["runc", "--root", root, "delete", cid], check=True)
        lat.append(time.monotonic() - t0)
    libc.prctl(36, 0, 0, 0, 0)
    return statistics.median(lat)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--seq", type=int, default=50)
    ap.add_argument("--par", type=int, default=20)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "..", "build"))
    a = ap.parse_args()
    sides = [("containerd", "io.containerd.runc.v2"), ("gantryd", "io.containerd.runc.v2"),
             ("containerd", "io.containerd.gantry.v2"), ("gantryd", "io.containerd.gantry.v2")]
    res = {}
    for daemon, rt in sides:
        s = Side(daemon, rt, a.build)
        name = f"{daemon} + {'runc shim' if 'runc' in rt else 'gantry shim'}"
        try:
            s.run_rm("warm")
            lat = []
            for i in range(a.runs):
                t0 = time.monotonic(); s.run_rm(f"l{i}"); lat.append(time.monotonic() - t0)
            # Start alone: `run -d` returns once the task is running.
            dlat = []
            for i in range(a.runs):
                t0 = time.monotonic()
                s.ctr("run", "-d", "--runtime", rt, "--rootfs", s.rootfs, f"d{i}", "/bin/sleep", "1000")
                dlat.append(time.monotonic() - t0)
            for i in range(a.runs):
                s.ctr("task", "kill", "-s", "KILL", f"d{i}")
            for i in range(a.runs):
                for _ in range(100):
                    if s.ctr("task", "rm", f"d{i}", check=False).returncode == 0:
                        break
                    time.sleep(0.02)
                s.ctr("containers", "rm", f"d{i}")
            t0 = time.monotonic(); c0 = cpu_ms(s.proc.pid)
            for i in range(a.seq):
                s.run_rm(f"s{i}")
            seq = time.monotonic() - t0; dcpu = (cpu_ms(s.proc.pid) - c0) / a.seq
            t0 = time.monotonic()
            with cf.ThreadPoolExecutor(a.par) as ex:
                list(ex.map(lambda i: s.ctr("run", "-d", "--runtime", rt, "--rootfs", s.rootfs, f"p{i}", "/bin/sleep", "1000"),
                            range(a.par)))
            par = time.monotonic() - t0
            time.sleep(2)
            shims = s.shim_pids()
            srss = sum(smaps(p)[0] for p in shims); spss = sum(smaps(p)[1] for p in shims)
            drss, dpss = smaps(s.proc.pid)
            res[name] = dict(lat=statistics.median(lat), dlat=statistics.median(dlat), seq=seq, par=par, shims=len(shims),
                             srss=srss, spss=spss, drss=drss, dpss=dpss, dcpu=dcpu, floor=runc_floor(s, a.runs))
        finally:
            s.stop()
    print(f"ctr run --rm --rootfs DIR /bin/true (median of {a.runs}), {a.seq} sequential, {a.par} parallel -d starts,")
    print(f"memory with {a.par} containers running (KiB):")
    print(f"{'side':<28}{'run --rm':>10}{'run -d':>9}{'runc floor':>12}{'own cost':>10}{'seq total':>11}{'daemon CPU/run':>16}{'parallel':>10}{'shims':>7}{'shim RSS/ctr':>14}{'shim PSS/ctr':>14}{'daemon RSS':>12}{'daemon PSS':>12}")
    for n, r in res.items():
        per = max(r["shims"], 1)
        print(f"{n:<28}{r['lat']*1000:>8.0f}ms{r['dlat']*1000:>7.0f}ms{r['floor']*1000:>10.0f}ms{(r['lat']-r['floor'])*1000:>8.0f}ms{r['seq']:>10.2f}s{r['dcpu']:>14.1f}ms{r['par']:>9.2f}s{r['shims']:>7}{r['srss']/per:>14.0f}"
              f"{r['spss']/per:>14.0f}{r['drss']:>12}{r['dpss']:>12}")
    base = res["containerd + runc shim"]; g = res["gantryd + gantry shim"]
    print(f"ratios (containerd + runc shim / gantryd + gantry shim): run --rm latency {base['lat']/g['lat']:.2f}x, "
          f"run -d latency {base['dlat']/g['dlat']:.2f}x, "
          f"own cost above the runc floor {(base['lat']-base['floor'])/max(g['lat']-g['floor'],1e-3):.2f}x, "
          f"sequential {base['seq']/g['seq']:.2f}x, parallel {base['par']/g['par']:.2f}x, "
          f"shim PSS per container {base['spss']/max(g['spss'],1):.1f}x, shim RSS per container {base['srss']/max(g['srss'],1):.1f}x, "
          f"total memory (daemon+shims PSS) {(base['dpss']+base['spss'])/max(g['dpss']+g['spss'],1):.1f}x")


if __name__ == "__main__":
    main()
