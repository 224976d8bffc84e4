"""Run the Pulumi program in-process under Pulumi's mock engine and record every resource.

This is the offline stand-in for `pulumi preview`: no CLI, no cloud, no Docker engine.
What it records (type, name, parent, dependencies, inputs with secrets still wrapped)
is what the real engine would hand to the policy pack.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import gc
import hashlib
import json
import runpy
import string
import sys
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import resource_pb2, source_pb2
from pulumi.runtime.sync_await import _ensure_event_loop

from ops.stack_values import PROJECT
from policies.devtools_policy.docker import CONTAINER

PROGRAM_DIR = Path(__file__).resolve().parent.parent
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

    @classmethod
    def of_request(cls, request: Any, urn: str, inputs: dict[str, Any]) -> Recorded:
        """A RegisterResource request as recorded, with its URN and its inputs decoded."""
        return cls(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent or None,
            dependencies=list(request.dependencies),
            inputs=inputs,
            custom=bool(request.custom),
            provider=request.provider or None,
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            delete_before_replace=bool(request.deleteBeforeReplace),
        )


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

    def computed_outputs(self, typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """What a resource reports beyond its inputs: the cloud's values once known, none in a preview."""
        return _computed(typ, name, inputs) if self.known else {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        return resource_id(args.name), {**args.inputs, **self.computed_outputs(args.typ, args.name, args.inputs)}

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


def resource_id(name: str) -> str:
    """Numeric ids, as DigitalOcean's: the program converts droplet ids with int()."""
    return str(zlib.crc32(name.encode()))


# Called with each resource as it registers, and its inputs as the SDK sent them (a protobuf Struct).
OnRegister = Callable[[Recorded, Any], None]


class _RecordingMonitor(mocks.MockMonitor):
    """The mock monitor, also keeping what the plain one drops: parent, dependencies, raw inputs.

    A registration's inputs are decoded once, for the recording and the computed outputs, and its
    answer is the request's own wire form plus those outputs, as a real engine answers a preview
    with the inputs it was sent: the plain mock monitor encodes the decoded inputs back, through
    an event loop of its own per call.
    """

    def __init__(self, mock: _Mocks, on_register: OnRegister | None = None):
        super().__init__(mock)
        self.recorded: list[Recorded] = []
        self.on_register = on_register

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        # The engine refuses a second resource with the same URN (the update fails); so does this one.
        if urn in self.resources:
            raise pulumi.RunError(f"Duplicate resource URN '{urn}'; try giving it a unique name")
        # Unknown inputs are kept: the policy pack and the plan show them as unknown.
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        computed = self.mocks.computed_outputs(request.type, request.name, inputs)
        response = resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id(request.name), object=request.object)
        response.object.update(computed)  # plain text and numbers: the wire form is the value itself
        self.resources[urn] = mocks.MockMonitor.ResourceRegistration(urn, response.id, {**inputs, **computed})
        recorded = Recorded.of_request(request, urn, inputs)
        self.recorded.append(recorded)
        if self.on_register is not None:
            self.on_register(recorded, request.object)
        return response


class _MonitorCallsInline(concurrent.futures.ThreadPoolExecutor):
    """The event loop's default executor: while `inline` is set, a call runs at once in the loop's thread.

    The SDK hands every monitor call (each registration above all) to the loop's default executor,
    as its engine is across a gRPC connection. This engine's monitor is in the process and waits on
    nothing, so a worker thread only adds a hand-over of the interpreter lock per call, and the
    program and the monitor take turns on that lock anyway. The answer comes back as a finished
    future of the loop, which asyncio awaits as it is. Outside a run it is the usual thread pool.
    """

    inline = False

    def submit(self, fn, /, *args, **kwargs):
        if not self.inline:
            return super().submit(fn, *args, **kwargs)
        answer = asyncio.get_running_loop().create_future()
        try:
            answer.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 handed to the awaiting task, as a worker thread would
            answer.set_exception(error)
        return answer

    @contextmanager
    def calls_inline(self) -> Iterator[None]:
        loop = _ensure_event_loop()  # the loop pulumi.runtime.test runs the program on
        loop.set_default_executor(self)
        self.inline = True
        try:
            yield
        finally:
            self.inline = False


_MONITOR_EXECUTOR = _MonitorCallsInline(thread_name_prefix="mock-monitor")


def run_program(config: Mapping[str, str], secret_keys: list[str], stack: str, known: bool = True,
                on_register: OnRegister | None = None) -> list[Recorded]:
    """Run __main__.py under mocks with `config`; return the resources it registered, in order.

    `on_register` is called with each resource as it registers, and its inputs as the SDK sent them
    (a protobuf Struct, the wire form the engine forwards to a policy pack), as the engine hands each
    one to the pack during a preview (from the program's event loop: it should only hand them on).
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
        with cycle_collection_paused(), _no_source_positions(), _MONITOR_EXECUTOR.calls_inline():
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

    For a caller whose collector is on (the tests, the benchmark's floors; the command line runs without
    it, ops/__main__.py), resuming it as it was left everything the block allocated in its youngest
    generation, and the next collection walked all of it (2.5 s after a 2000-service program, 46 ms
    after the shipped DOKS one). So the block first moves those objects to the oldest generation
    (`gc.freeze` then `gc.unfreeze`, each a move of whole lists), where only a full collection, which
    comes seldom, looks at them again and frees what has become garbage.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
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
