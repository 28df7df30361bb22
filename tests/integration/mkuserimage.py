#!/usr/bin/env python3
"""Build a one-layer OCI image archive for the user-resolution tests of `gantry run`.

usage: mkuserimage.py OUT.tar NAME USER MODE [DECOY_DIR]

The layer holds busybox-static with a few applet links, and an /etc/passwd and /etc/group with
  users  root (0:0), app (1234:2345)
  groups root 0, appgrp 2345, extra 3456 (members app,other), more 4567 (members root,app)
USER is the image config's User ("" for none). MODE:
  plain     the files above
  selfloop  /etc/passwd is a symlink to the absolute /etc/passwd (a loop inside the image; the
            host's file if resolved outside it)
  decoy     /etc/passwd -> DECOY_DIR/passwd (absolute) and /etc/group -> ../../(x12)DECOY_DIR/group
            (relative, climbing out of the root); the image holds the real files at DECOY_DIR,
            and the test puts different ones at the same paths on the host.
"""
import gzip, hashlib, io, json, sys, tarfile

PASSWD = b"root:x:0:0:root:/root:/bin/sh\napp:x:1234:2345:app:/home/app:/bin/sh\n"
GROUP = b"root:x:0:\nappgrp:x:2345:\nextra:x:3456:app,other\n# a comment\nmore:x:4567:root,app\n"


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def layer(entries):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if kind == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            elif kind == "sym":
                ti.type, ti.linkname = tarfile.SYMTYPE, data
                t.addfile(ti)
            else:
                ti.size, ti.mode = len(data), 0o755 if kind == "exe" else 0o644
                t.addfile(ti, io.BytesIO(data))
    return raw.getvalue()


def main():
    out, name, user, mode = sys.argv[1:5]
    decoy = sys.argv[5].strip("/") if len(sys.argv) > 5 else ""
    entries = [("bin", "dir", None), ("bin/busybox", "exe", open("/bin/busybox", "rb").read()),
               ("etc", "dir", None), ("tmp", "dir", None), ("proc", "dir", None),
               ("dev", "dir", None), ("sys", "dir", None)]
    for app in ["sh", "id", "cat", "echo", "sleep", "true", "ls"]:
        entries.append(("bin/" + app, "sym", "busybox"))
    if mode == "plain":
        entries += [("etc/passwd", "file", PASSWD), ("etc/group", "file", GROUP)]
    elif mode == "selfloop":
        entries += [("etc/passwd", "sym", "/etc/passwd"), ("etc/group", "file", GROUP)]
    elif mode == "decoy":
        parts = decoy.split("/")
        for i in range(1, len(parts) + 1):
            entries.append(("/".join(parts[:i]), "dir", None))
        entries += [(decoy + "/passwd", "file", PASSWD), (decoy + "/group", "file", GROUP),
                    ("etc/passwd", "sym", "/" + decoy + "/passwd"),
                    ("etc/group", "sym", "../" * 12 + decoy + "/group")]
    else:
        sys.exit("unknown mode " + mode)
    diff = layer(entries)
    gz = gzip.compress(diff, mtime=0)
    cfg_obj = {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]}
    if user:
        cfg_obj["User"] = user
    config = {"architecture": "amd64", "os": "linux", "config": cfg_obj,
              "rootfs": {"type": "layers", "diff_ids": [sha(diff)]}}
    cfg = json.dumps(config).encode()
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": sha(cfg), "size": len(cfg)},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                            "digest": sha(gz), "size": len(gz)}]}
    man = json.dumps(manifest).encode()
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"mediaType": manifest["mediaType"], "digest": sha(man),
                            "size": len(man),
                            "annotations": {"io.containerd.image.name": name,
                                            "org.opencontainers.image.ref.name":
                                                name.rsplit(":", 1)[-1]}}]}
    with tarfile.open(out, "w") as t:
        def add(path, data):
            ti = tarfile.TarInfo(path)
            ti.size = len(data)
            ti.mtime = 1700000000
            t.addfile(ti, io.BytesIO(data))
        add("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        add("index.json", json.dumps(index).encode())
        for b in [cfg, man, gz]:
            add("blobs/sha256/" + hashlib.sha256(b).hexdigest(), b)


if __name__ == "__main__":
    main()
