#!/usr/bin/python3
"""Packs a root filesystem directory into a single-layer OCI image archive that
`ctr images import` accepts (index.json carries io.containerd.image.name), with
no registry and no container engine. Deterministic: the same rootfs gives the
same digest (files sorted, mtimes kept from the rootfs, uncompressed layer).

usage: oci-image.py --rootfs DIR --name REF --out FILE.tar
                    [--entrypoint JSON] [--cmd JSON] [--env K=V ...]
                    [--workdir DIR] [--user U] [--force-root-owner]
Prints the manifest digest.
"""
import argparse
import hashlib
import io
import json
import os
import subprocess
import tarfile
import tempfile


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rootfs", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--entrypoint")
    ap.add_argument("--cmd")
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--workdir", default="/")
    ap.add_argument("--user", default="")
    ap.add_argument("--force-root-owner", action="store_true")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(a.out))) as tmp:
        blobs = os.path.join(tmp, "blobs", "sha256")
        os.makedirs(blobs)
        layer = os.path.join(tmp, "layer.tar")
        cmd = ["tar", "-C", a.rootfs, "--sort=name", "--numeric-owner", "--xattrs",
               "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*",
               "-cf", layer]
        if a.force_root_owner:
            cmd[1:1] = ["--owner=0", "--group=0", "--mtime=@0"]
        subprocess.run(cmd + ["."], check=True)
        layer_digest = sha256_file(layer)
        layer_size = os.path.getsize(layer)
        os.rename(layer, os.path.join(blobs, layer_digest))

        cfg = {"Env": a.env or ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
               "WorkingDir": a.workdir}
        if a.entrypoint:
            cfg["Entrypoint"] = json.loads(a.entrypoint)
        if a.cmd:
            cfg["Cmd"] = json.loads(a.cmd)
        if a.user:
            cfg["User"] = a.user
        config = {
            "architecture": "amd64",
            "os": "linux",
            "created": "1970-01-01T00:00:00Z",
            "config": cfg,
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + layer_digest]},
            "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "hack/cluster/images.sh"}],
        }

        def blob(obj):
            data = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
            d = hashlib.sha256(data).hexdigest()
            with open(os.path.join(blobs, d), "wb") as f:
                f.write(data)
            return d, len(data)

        cfg_digest, cfg_size = blob(config)
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": "sha256:" + cfg_digest, "size": cfg_size},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": "sha256:" + layer_digest, "size": layer_size}],
        }
        man_digest, man_size = blob(manifest)
        ref_name = a.name.rsplit(":", 1)[1] if ":" in a.name.rsplit("/", 1)[-1] else "latest"
        index = {
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": "sha256:" + man_digest, "size": man_size,
                "annotations": {"io.containerd.image.name": a.name,
                                "org.opencontainers.image.ref.name": ref_name},
            }],
        }
        with open(os.path.join(tmp, "index.json"), "w") as f:
            json.dump(index, f, sort_keys=True)
        with open(os.path.join(tmp, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)

        out_tmp = a.out + ".tmp"
        with tarfile.open(out_tmp, "w") as t:
            for name in ["oci-layout", "index.json"]:
                t.add(os.path.join(tmp, name), arcname=name)
            for d in sorted(os.listdir(blobs)):
                t.add(os.path.join(blobs, d), arcname="blobs/sha256/" + d)
        os.replace(out_tmp, a.out)
    print("sha256:" + man_digest)


if __name__ == "__main__":
    main()
