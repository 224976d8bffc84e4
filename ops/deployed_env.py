"""What is deployed on the droplet: each platform container's environment and secret files, as hashes.

A small Python script runs on the droplet over SSH (`ssh ... python3 - <stack> <docker>`, the
script on stdin; python3 is there because cloud-init is written in it). It calls the Docker
CLI a few times (`ps`, one `inspect` for all containers, one `image inspect`, one `cp` of
/run/secrets per container) and prints one tab-separated line per fact:

    container  <service>  <id>
    env        <service>  <key>  <sha256 of the value>
    image-env  <service>  <key>  <sha256 of the value>   (defaults baked into the image)
    file       <service>  <path> <sha256 of the content>

Values are hashed on the droplet: no value crosses the wire or reaches this machine.
"""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass, field

REMOTE_SCRIPT = r"""
import hashlib, io, json, shlex, subprocess, sys, tarfile
stack, docker = sys.argv[1], shlex.split(sys.argv[2])
def run(*args, check=True):
    done = subprocess.run(docker + list(args), capture_output=True, check=False)
    if check and done.returncode != 0:
        sys.exit("docker " + " ".join(args[:2]) + ": " + done.stderr.decode(errors="replace").strip())
    return done
def h(data):
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()
def env_facts(kind, service, env):
    for entry in env or []:
        key, _, value = entry.partition("=")
        print(kind, service, key, h(value), sep="\t")
ids = run("ps", "-q", "--filter", "label=devtools.stack=" + stack).stdout.decode().split()
containers = json.loads(run("inspect", *ids).stdout) if ids else []
# By image ID: a container started from repo:tag@sha256:... has no tag that names its image.
images = {c["Image"] for c in containers}
image_env = {}
if images:
    found = run("image", "inspect", *sorted(images), check=False)
    for image in json.loads(found.stdout or b"[]"):
        image_env[image["Id"]] = image["Config"].get("Env")
for c in containers:
    service = (c["Config"].get("Labels") or {}).get("devtools.service", c["Id"][:12])
    print("container", service, c["Id"][:12], sep="\t")
    env_facts("env", service, c["Config"].get("Env"))
    env_facts("image-env", service, image_env.get(c["Image"]))
    copied = run("cp", c["Id"] + ":/run/secrets", "-", check=False)
    if copied.returncode == 0:
        with tarfile.open(fileobj=io.BytesIO(copied.stdout)) as tar:
            for member in tar.getmembers():
                if member.isfile():
                    name = member.name.split("/", 1)[1] if "/" in member.name else member.name
                    print("file", service, "/run/secrets/" + name, h(tar.extractfile(member).read()), sep="\t")
"""


@dataclass
class ContainerState:
    """One container's environment and files: key or path -> sha256 hex (None: present, value not known)."""

    env: dict[str, str | None] = field(default_factory=dict)
    files: dict[str, str | None] = field(default_factory=dict)
    image_env: dict[str, str] = field(default_factory=dict)


class RemoteError(Exception):
    pass


@dataclass(frozen=True)
class SshTarget:
    host: str
    user: str = "root"
    port: int = 22
    identity: str | None = None
    known_hosts: str | None = None
    docker: str = "docker"
    timeout: float = 60.0

    def command(self, stack: str) -> list[str]:
        cmd = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-p", str(self.port)]
        if self.identity:
            cmd += ["-i", self.identity, "-o", "IdentitiesOnly=yes"]
        if self.known_hosts:
            cmd += ["-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes"]
        # ssh joins its arguments into one remote shell command line: quote each.
        return cmd + [f"{self.user}@{self.host}", "python3", "-", shlex.quote(stack), shlex.quote(self.docker)]


def parse_facts(text: str) -> dict[str, ContainerState]:
    deployed: dict[str, ContainerState] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        kind = parts[0]
        if kind == "container" and len(parts) == 3:
            deployed.setdefault(parts[1], ContainerState())
        elif kind in ("env", "image-env", "file") and len(parts) == 4:
            state = deployed.setdefault(parts[1], ContainerState())
            target = {"env": state.env, "image-env": state.image_env, "file": state.files}[kind]
            target[parts[2]] = parts[3]
        else:
            raise RemoteError(f"line {number} of the droplet's answer is not understood: {line[:80]!r}")
    return deployed


def read_deployed(target: SshTarget, stack: str) -> dict[str, ContainerState]:
    """Run the script on the droplet; raise RemoteError (with ssh's own message) when that fails."""
    try:
        result = subprocess.run(target.command(stack), input=REMOTE_SCRIPT, capture_output=True, text=True,
                                timeout=target.timeout)
    except subprocess.TimeoutExpired:
        raise RemoteError(f"no answer from {target.user}@{target.host}:{target.port} within {target.timeout:g}s") from None
    except FileNotFoundError:
        raise RemoteError("the ssh client is not installed") from None
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-1:] or [f"exit {result.returncode}"]
        raise RemoteError(f"ssh {target.user}@{target.host}:{target.port} failed: {detail[0]}")
    return parse_facts(result.stdout)
