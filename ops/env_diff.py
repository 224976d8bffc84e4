"""`python -m ops env-diff`: the environment the program would deliver vs what runs on the droplet.

The program side comes from the plan under Pulumi's mocks: each container's env and the
secret files it uploads. The droplet side comes over SSH (ops/deployed_env.py). Both are
compared as sha256 hashes; keys and paths are printed, values never.

Secret file contents are known offline only for the secrets read from config, and only when
`--env-file` supplies them (the platform's .env); generated ones (passwords from
pulumi-random) live in the Pulumi state, so for those only presence is compared.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

from pulumi.runtime import rpc

from catalog.errors import InputError
from catalog.inputs import load_inputs
from catalog.services import SECRETS_DIR
from catalog.settings import NAMESPACE, secret_config_keys
from ops.deployed_env import ContainerState, RemoteError, SshTarget, read_deployed
from ops.dotenv import read_env_file
from ops.engine import Recorded, run_program
from ops.stackfile import read_stack_config
from ops.validate_env import env_key
from policies.devtools_policy.docker import CONTAINER

EXIT_SAME, EXIT_DRIFT, EXIT_ERROR = 0, 1, 2


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def unwrap_secrets(value):
    """`value` with Pulumi's secret wrappers removed at every depth (a list holding a secret is wrapped whole)."""
    if rpc.is_rpc_secret(value):
        return unwrap_secrets(value["value"])
    if isinstance(value, dict):
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def _label(inputs: dict, name: str) -> str | None:
    return next((item.get("value") for item in inputs.get("labels") or [] if item.get("label") == name), None)


def program_state(resources: list[Recorded], known_secrets: set[str]) -> dict[str, ContainerState]:
    """Per service: env hashes and secret file hashes (None for secrets whose value is not known offline)."""
    states: dict[str, ContainerState] = {}
    for r in resources:
        if r.type != CONTAINER:
            continue
        inputs = unwrap_secrets(r.inputs)
        service = _label(inputs, "devtools.service") or r.name
        state = states.setdefault(service, ContainerState())
        for entry in inputs.get("envs") or []:
            key, _, value = entry.partition("=")
            state.env[key] = sha256(value)
        for upload in inputs.get("uploads") or []:
            path = upload.get("file", "")
            if path.startswith(f"{SECRETS_DIR}/"):
                name = path.removeprefix(f"{SECRETS_DIR}/")
                state.files[path] = sha256(upload.get("content", "")) if name in known_secrets else None
    return states


@dataclass(frozen=True)
class Difference:
    service: str
    kind: str       # "env" | "file" | "service"
    name: str       # key, path, or "" for a whole service
    change: str     # "added" | "removed" | "changed" | "not running" | "not in the program"

    def line(self) -> str:
        mark = {"added": "+", "removed": "-", "changed": "~"}.get(self.change, "!")
        explain = {
            "added": "the program sets it; the droplet does not have it",
            "removed": "on the droplet; the program no longer sets it",
            "changed": "value differs by sha256",
        }[self.change]
        return f"  {mark} {self.kind:<4} {self.name}  ({explain})"


def compare(program: dict[str, ContainerState], deployed: dict[str, ContainerState]) -> list[Difference]:
    out: list[Difference] = []
    for service in sorted(set(program) | set(deployed)):
        if service not in deployed:
            out.append(Difference(service, "service", "", "not running"))
            continue
        if service not in program:
            out.append(Difference(service, "service", "", "not in the program"))
            continue
        want, have = program[service], deployed[service]
        # Keys the image sets itself (PATH, PG_VERSION...) are not the program's business unless it sets them too.
        have_env = {k: v for k, v in have.env.items() if k in want.env or have.image_env.get(k) != v}
        for kind, mine, theirs in (("env", want.env, have_env), ("file", want.files, have.files)):
            for name in sorted(set(mine) | set(theirs)):
                if name not in theirs:
                    out.append(Difference(service, kind, name, "added"))
                elif name not in mine:
                    out.append(Difference(service, kind, name, "removed"))
                elif mine[name] is not None and mine[name] != theirs[name]:
                    out.append(Difference(service, kind, name, "changed"))
    return out


def render(differences: list[Difference], unknown: int) -> str:
    lines: list[str] = []
    current = None
    for d in differences:
        if d.kind == "service":
            lines.append(f"{d.service}: {d.change}")
            continue
        if d.service != current:
            lines.append(f"{d.service}:")
            current = d.service
        lines.append(d.line())
    services = len({d.service for d in differences})
    summary = (f"{len(differences)} difference(s) in {services} service(s)" if differences
               else "no differences: the droplet runs what the program declares")
    lines.append(f"{summary}; values compared by sha256, never shown")
    if unknown:
        lines.append(f"{unknown} secret file(s) compared by presence only (value not known offline; "
                     "pass --env-file for the secrets read from config)")
    return "\n".join(lines)


def add_arguments(parser) -> None:
    parser.add_argument("--stack", default="prod", help="stack whose Pulumi.<stack>.yaml to read (default: prod)")
    parser.add_argument("--host", required=True, help="the droplet's address (the stack output `address`)")
    parser.add_argument("--user", default="root", help="SSH user (default: root)")
    parser.add_argument("--port", type=int, default=22, help="SSH port (default: 22)")
    parser.add_argument("--identity", metavar="KEYFILE", help="SSH private key file")
    parser.add_argument("--known-hosts", metavar="FILE", help="known_hosts file to check the droplet's host key against")
    parser.add_argument("--docker", default="docker", help="the Docker CLI on the droplet, e.g. 'sudo docker' (default: docker)")
    parser.add_argument("--env-file", metavar="PATH", help="the platform's .env holding the secrets read from config, to compare their files too")
    parser.add_argument("--catalog", metavar="PATH", help="another catalog than config/services.yaml")


def _secrets_from_env(path: Path, keys: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Config values of the catalog's config secrets found in the .env, and the .env's problems."""
    entries, problems = read_env_file(path)
    values = {e.key: e.value for e in entries}
    found = {f"{NAMESPACE}:{key}": values[env_key(key)] for key in keys if values.get(env_key(key))}
    return found, [str(p) for p in problems]


def run(args) -> int:
    try:
        stack_config = read_stack_config(args.stack, args.catalog)
        config = dict(stack_config.config)
        inputs = load_inputs(config, args.stack)
    except InputError as error:
        print(error.render(), file=sys.stderr)
        return EXIT_ERROR
    keys = secret_config_keys(inputs.catalog)
    known: set[str] = set()
    if args.env_file:
        found, problems = _secrets_from_env(Path(args.env_file), keys)
        if problems:
            print("\n".join(problems), file=sys.stderr)
            return EXIT_ERROR
        config.update(found)
        known = {keys[full.removeprefix(f"{NAMESPACE}:")] for full in found}
    program = program_state(run_program(config, stack_config.secret_keys, args.stack), known)
    target = SshTarget(args.host, args.user, args.port, args.identity, args.known_hosts, args.docker)
    try:
        deployed = read_deployed(target, args.stack)
    except RemoteError as error:
        print(f"env-diff: {error}", file=sys.stderr)
        return EXIT_ERROR
    differences = compare(program, deployed)
    unknown = sum(1 for s in program.values() for v in s.files.values() if v is None)
    print(f"env-diff: stack {args.stack}, program vs {args.user}@{args.host}")
    print(render(differences, unknown))
    return EXIT_DRIFT if differences else EXIT_SAME
