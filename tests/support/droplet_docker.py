#!/usr/bin/env python3
"""A stand-in for the droplet's Docker CLI, answering the calls ops/deployed_env.py makes from a folder.

Usage: droplet_docker.py STATE_FOLDER <docker arguments>. The folder holds
    containers/<id>/config.json   {"Image": ..., "Env": [...], "Labels": {...}}
    containers/<id>/secrets/...   the files under /run/secrets in that container
    images/<image, / and : as _>.json   {"Env": [...]}
Calls answered as Docker answers them: `ps -q --filter label=K=V`, `inspect ID...` (JSON, with
the container's image ID), `image inspect IMAGE-ID...` (JSON; an image pulled by digest has no
RepoTags, as in Docker), `cp ID:/run/secrets -` (a tar stream).
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path


def image_id(reference: str) -> str:
    return "sha256:" + hashlib.sha256(reference.encode()).hexdigest()


def main(state: Path, args: list[str]) -> int:
    boxes = {d.name: d for d in sorted((state / "containers").iterdir())}

    def config(cid: str) -> dict:
        return json.loads((boxes[cid] / "config.json").read_text())

    references = {image_id(config(cid)["Image"]): config(cid)["Image"] for cid in boxes}

    if args[:2] == ["ps", "-q"]:
        key, _, value = args[args.index("--filter") + 1].removeprefix("label=").partition("=")
        print("\n".join(cid for cid in boxes if config(cid)["Labels"].get(key) == value))
        return 0
    if args[0] == "inspect":
        missing = [cid for cid in args[1:] if cid not in boxes]
        if missing:
            print(f"Error: No such object: {missing[0]}", file=sys.stderr)
            return 1
        print(json.dumps([{"Id": cid, "Image": image_id(config(cid)["Image"]), "Config": config(cid)} for cid in args[1:]]))
        return 0
    if args[:2] == ["image", "inspect"]:
        found, code = [], 0
        for image in args[2:]:
            reference = references.get(image, "")
            path = state / "images" / (reference.replace("/", "_").replace(":", "_") + ".json")
            if reference and path.exists():
                found.append({"Id": image, "RepoTags": [] if "@" in reference else [reference],
                              "Config": json.loads(path.read_text())})
            else:
                print(f"Error: No such image: {image}", file=sys.stderr)
                code = 1
        print(json.dumps(found))
        return code
    if args[0] == "cp" and args[-1] == "-":
        cid, _, path = args[1].partition(":")
        secrets = boxes[cid] / "secrets"
        if path != "/run/secrets" or not secrets.is_dir():
            print(f"Error: Could not find the file {path} in container {cid}", file=sys.stderr)
            return 1
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            tar.add(secrets, arcname="secrets")   # as docker: the directory's own name, then its files
        sys.stdout.buffer.write(buffer.getvalue())
        return 0
    print(f"stand-in docker: call not supported: {args}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2:]))
