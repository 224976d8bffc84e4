"""Run the Pulumi program in-process under Pulumi's mock engine and record every resource.

This is the offline stand-in for `pulumi preview`: no CLI, no cloud, no Docker engine.
What it records (type, name, parent, dependencies, inputs with secrets still wrapped)
is what the real engine would hand to the policy pack.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import json
import runpy
import string
import sys
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import source_pb2

from policies.devtools_policy.docker import CONTAINER

PROGRAM_DIR = Path(__file__).resolve().parent.parent
PROJECT = "devtools"
UNKNOWN = rpc.UNKNOWN


def is_unknown(value: Any) -> bool:
    """A value the engine cannot know yet (first preview): the wire sentinel or the SDK's marker."""
    return isinstance(value, pulumi.output.Unknown) or value == UNKNOWN


class ProgramFailed(Exception):
    """The program raised; `recorded` holds what it had registered before (for bad input: nothing)."""

    def __init__(self, message: str, recorded: list[Recorded]):
        self.recorded = recorded
        super().__init__(message)


@dataclass
class Recorded:
    urn: str
    type: str
    name: str
    parent: str | None
    dependencies: list[str]
    inputs: dict[str, Any]
    custom: bool
    provider: str | None = None
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    delete_before_replace: bool = False


def fake_secret(name: str, length: int) -> str:
    """A stable, random-looking value standing in for a generated password offline."""
    alphabet = string.ascii_letters + string.digits
    digest = hashlib.sha256(f"offline:{name}".encode()).digest() * 4
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


# Outputs the cloud computes; returned only when values are "known" (as after a deploy).
def _computed(typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    if typ == "random:index/randomPassword:RandomPassword":
        return {"result": fake_secret(name, int(inputs.get("length", 32)))}
    if typ == "digitalocean:index/droplet:Droplet":
        return {"ipv4Address": "203.0.113.10", "ipv4AddressPrivate": "10.20.0.2", "dropletUrn": f"do:droplet:{name}"}
    if typ == "digitalocean:index/volume:Volume":
        return {"volumeUrn": f"do:volume:{name}"}
    if typ == "digitalocean:index/reservedIp:ReservedIp":
        return {"ipAddress": "203.0.113.20", "reservedIpUrn": f"do:reservedip:{name}"}
    if typ == "digitalocean:index/databaseCluster:DatabaseCluster":
        return {"privateHost": f"private-{inputs['name']}.db.example.internal", "password": fake_secret(name, 32)}
    if typ == "digitalocean:index/databaseUser:DatabaseUser":
        return {"password": fake_secret(name, 32)}
    if typ == "digitalocean:index/vpc:Vpc":
        return {"urn": f"do:vpc:{name}"}
    if typ == CONTAINER and inputs.get("attach"):
        return {"exitCode": 0}  # a one-shot job that succeeded
    if typ == "command:remote:Command":
        return {"stdout": "28.2.2", "stderr": ""}
    if typ == "digitalocean:index/containerRegistry:ContainerRegistry":
        return {"serverUrl": "registry.digitalocean.com", "endpoint": f"registry.digitalocean.com/{inputs['name']}"}
    if typ == "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials":
        login = base64.b64encode(f"{fake_secret(name, 24)}:{fake_secret(name, 24)}".encode()).decode()
        return {"dockerCredentials": json.dumps({"auths": {"registry.digitalocean.com": {"auth": login}}})}
    if typ == "docker-build:index:Image":
        # The registry's answer to a push: the digest of what was built, and the tag pinned to it.
        digest = "sha256:" + hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()
        return {"digest": digest, "ref": f"{inputs['tags'][0]}@{digest}"}
    return {}


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self, known: bool):
        self.known = known
        # The inputs the mock monitor just deserialised, per thread: the monitor answers on several.
        self.last = threading.local()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.last.inputs = args.inputs
        state = dict(args.inputs)
        if self.known:
            state.update(_computed(args.typ, args.name, args.inputs))
        # Numeric ids, as DigitalOcean's: the program converts droplet ids with int().
        return str(zlib.crc32(args.name.encode())), state

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


# Called with each resource as it registers, and its inputs as the SDK sent them (a protobuf Struct).
OnRegister = Callable[[Recorded, Any], None]


class _RecordingMonitor(mocks.MockMonitor):
    """The mock monitor, also keeping what the plain one drops: parent, dependencies, raw inputs."""

    def __init__(self, mock: _Mocks, on_register: OnRegister | None = None):
        super().__init__(mock)
        self.recorded: list[Recorded] = []
        self.on_register = on_register
        self._urns: set[str] = set()
        self._lock = threading.Lock()  # the SDK registers from several threads

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        with self._lock:
            # The engine refuses a second resource with the same URN (the update fails); so does this one.
            if response.urn in self._urns:
                raise pulumi.RunError(f"Duplicate resource URN '{response.urn}'; try giving it a unique name")
            self._urns.add(response.urn)
        if request.type != "pulumi:pulumi:Stack":
            self.recorded.append(
                Recorded(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent or None,
                    dependencies=list(request.dependencies),
                    inputs=self._inputs(request),
                    custom=bool(request.custom),
                    provider=request.provider or None,
                    property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                    delete_before_replace=bool(request.deleteBeforeReplace),
                )
            )
            if self.on_register is not None:
                self.on_register(self.recorded[-1], request.object)
        return response


    def _inputs(self, request) -> dict[str, Any]:
        """The request's inputs with unknown values kept. In a preview the mock monitor's own
        deserialisation already keeps them (the SDK keeps unknowns on a dry run), and nothing changes
        those inputs (new_resource copies them), so the recording reuses it instead of decoding twice."""
        if pulumi.runtime.is_dry_run():
            return self.mocks.last.inputs
        return rpc.deserialize_properties(request.object, keep_unknowns=True)


def config_from_stack_file(stack_file: Mapping[str, Any]) -> dict[str, str]:
    """`config:` of a Pulumi.<stack>.yaml as the runtime sees it: text, objects as JSON."""
    raw = {}
    for key, value in (stack_file.get("config") or {}).items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        raw[full] = value if isinstance(value, str) else json.dumps(value)
    return raw


def run_program(config: Mapping[str, str], secret_keys: list[str], stack: str, known: bool = True,
                on_register: OnRegister | None = None) -> list[Recorded]:
    """Run __main__.py under mocks with `config`; return the resources it registered, in order.

    `on_register` is called with each resource as it registers, and its inputs as the SDK sent them
    (a protobuf Struct, the wire form the engine forwards to a policy pack), as the engine hands each
    one to the pack during a preview (from the mock engine's threads: it should only hand them on).
    """
    # The program's modules are imported once per process and reused: they declare nothing at
    # import time (every resource is declared by calls from __main__.py), and keeping them
    # keeps one identity for their classes across the preview, the tests and the program.
    def program() -> None:
        runpy.run_path(str(PROGRAM_DIR / "__main__.py"), run_name="__main__")

    sys.path.insert(0, str(PROGRAM_DIR))
    try:
        return run_under_mocks(program, config, secret_keys, stack, known, on_register)
    finally:
        sys.path.remove(str(PROGRAM_DIR))


def run_under_mocks(program: Callable[[], None], config: Mapping[str, str], secret_keys: list[str], stack: str,
                    known: bool = True, on_register: OnRegister | None = None) -> list[Recorded]:
    """Run `program` (anything that declares resources) under this mock engine; what it registered."""
    monitor = _RecordingMonitor(_Mocks(known), on_register)
    pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=not known, monitor=monitor)
    pulumi.runtime.set_all_config(dict(config), secret_keys=list(secret_keys))
    try:
        with cycle_collection_paused(), _no_source_positions():
            pulumi.runtime.test(program)()
    except pulumi.RunError as error:
        raise ProgramFailed(str(error), monitor.recorded) from None
    return monitor.recorded


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Run without Python's cycle collector, as a preview is short and keeps nearly all it allocates.

    Every resource, Output and task the program makes lives until the program ends, so each full
    collection rescans all of them and finds little to free: with the collector on, the cost of a
    preview grew with the square of the catalog (1000 services: 14 s of program instead of 8 s, for
    8% less peak memory). Collection resumes when the block ends; nested blocks leave it to the outer one.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _no_source_positions() -> Iterator[None]:
    """Register resources without the stack trace the SDK takes of each declaration.

    The SDK walks and reads the source of every frame on the stack (traceback.extract_stack) so that
    the engine can show where a resource was declared; this engine records no source positions and
    the mock monitor drops them, so the walk is skipped here: a tenth of the program's time on the
    DOKS stack. What the program declares is the same: the request only lacks its stackTrace.
    """
    taken = sdk_resource._get_stack_trace
    sdk_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = taken
