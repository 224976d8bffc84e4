"""A client for a CrossGuard policy pack, speaking the analyzer gRPC protocol as the Pulumi engine does.

The engine starts a Python pack as `python -u -m pulumi.policy <engine address> .` in the pack's folder
(sdk/python/dist/pulumi-analyzer-policy-python), with PULUMI_PROJECT, PULUMI_STACK, PULUMI_DRY_RUN and
PULUMI_CONFIG in the environment. The pack prints the port of its analyzer server on stdout. The engine
then calls GetAnalyzerInfo, Configure, Analyze once per resource and AnalyzeStack once, sending
properties in wire form: secrets wrapped, unknown values as sentinels. This client does the same.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import proto, rpc
from pulumi.runtime.proto import analyzer_pb2_grpc

from catalog.model import load_yaml
from ops import analyzer_wire as wire
from ops.engine import Recorded
from ops.pack_process import PACK_DIR, Headstart, launch_pack
from ops.plan import Violation

LEVELS = {proto.ADVISORY: "advisory", proto.MANDATORY: "mandatory", proto.REMEDIATE: "remediate", proto.DISABLED: "disabled"}
LEVEL_CODES = {name: code for code, name in LEVELS.items()}
# Sent as bytes put together from each resource's encoded properties (ops/analyzer_wire.py says why).
ENCODED_REQUESTS = ("Analyze", "AnalyzeStack")
SEVERITIES = {proto.POLICY_SEVERITY_UNSPECIFIED: "unspecified", proto.POLICY_SEVERITY_LOW: "low",
              proto.POLICY_SEVERITY_MEDIUM: "medium", proto.POLICY_SEVERITY_HIGH: "high",
              proto.POLICY_SEVERITY_CRITICAL: "critical"}


class PackError(RuntimeError):
    """The pack did not start or did not answer."""


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    enforcement: str
    severity: str
    stack: bool
    config_schema: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackInfo:
    name: str
    version: str
    policies: tuple[PolicyInfo, ...]

    def policy(self, name: str) -> PolicyInfo | None:
        return next((p for p in self.policies if p.name == name), None)


@dataclass(frozen=True)
class PolicySetting:
    """What Configure sends for one policy: its enforcement level and its properties."""

    enforcement: str
    properties: Mapping[str, Any] = field(default_factory=dict)


def _declared_version(pack_dir: Path) -> str | None:
    try:
        declared = load_yaml((pack_dir / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    version = declared.get("version") if isinstance(declared, dict) else None
    return str(version) if version is not None else None


def to_wire(value: Any) -> Any:
    """Recorded inputs -> the engine's wire form: unknowns as the sentinel string, secrets kept wrapped."""
    if isinstance(value, Unknown):
        return rpc.UNKNOWN
    if isinstance(value, dict):
        return {key: to_wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_wire(item) for item in value]
    return value


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(to_wire(dict(props)))
    return message


def encoded_inputs(resource: Recorded) -> bytes:
    """A resource's recorded inputs as the encoded Struct the engine forwards (see ops/analyzer_wire.py)."""
    return _struct(resource.inputs).SerializeToString()


def analyze_request(resource: Recorded) -> Any:
    """One resource's Analyze request as a message, for the pack's servicer run in-process."""
    return proto.AnalyzeRequest.FromString(wire.analyze_request(resource, encoded_inputs(resource)))


def analyze_stack_request(resources: Iterable[Recorded]) -> Any:
    """The plan's AnalyzeStack request as a message, for the pack's servicer run in-process."""
    resources = list(resources)
    return proto.AnalyzeStackRequest.FromString(
        wire.analyze_stack_request(resources, {r.urn: encoded_inputs(r) for r in resources}))


def _message(diagnostic: Any) -> str:
    """The SDK sends `description\\nmessage`; keep the part specific to this finding."""
    text, description = diagnostic.message, diagnostic.description
    if description and text.startswith(description):
        text = text[len(description):].lstrip("\n")
    return text or description


def _violation(diagnostic: Any, urn: str | None) -> Violation:
    return Violation(
        policy=diagnostic.policyName,
        enforcement=LEVELS.get(diagnostic.enforcementLevel, "advisory"),
        severity=SEVERITIES.get(diagnostic.severity, "unspecified"),
        urn=diagnostic.urn or urn,
        message=_message(diagnostic),
        description=diagnostic.description,
    )


def _drain(stream: Any) -> None:
    """Read `stream` to its end, then close it. Only this thread closes it: closing it from another one
    while a read is pending would free its descriptor for the next pipe, which this read would then steal."""
    with stream:
        while stream.read(65536):
            pass


class PolicyPackClient:
    """Start the pack as a process, talk to it over gRPC, stop it. Use as a context manager."""

    def __init__(self, pack_dir: Path = PACK_DIR, stack: str = "prod", dry_run: bool = True,
                 config: Mapping[str, str] | None = None, startup_timeout: float = 30.0,
                 headstart: Headstart | None = None):
        self.pack_dir = pack_dir
        self.stack = stack
        self.dry_run = dry_run
        self.config = dict(config or {})
        self.startup_timeout = startup_timeout
        self.headstart = headstart  # a pack already started for this client, if it fits (see launch)
        self.process: subprocess.Popen | None = None
        self.channel: grpc.Channel | None = None
        self.stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._encoded: dict[str, grpc.UnaryUnaryMultiCallable] = {}  # ENCODED_REQUESTS' calls, sent as bytes
        self._stderr: Any = None
        self._deadline = 0.0
        self._draining = False
        self._starting = threading.Lock()

    def __enter__(self) -> PolicyPackClient:
        try:
            self.start()
        except BaseException:
            self.close()  # a pack that printed a port but does not answer must not outlive us
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def launch(self) -> None:
        """Start the pack's process and return at once: it can get ready while the program runs.

        A headstart started for the same pack (folder, stack, mode, config) is taken over; one
        started for another is stopped, and the pack started again.
        """
        if self.process is not None:
            return
        started = self.headstart
        if started is not None and started.fits(self.pack_dir, self.stack, self.dry_run, self.config):
            started.adopted = True
            self.process, self._stderr = started.process, started.stderr
            self._deadline = started.launched_at + self.startup_timeout
            return
        if started is not None:
            started.stop()
        self._stderr = tempfile.TemporaryFile()
        self.process = launch_pack(self.pack_dir, self.stack, self.dry_run, self.config, self._stderr)
        self._deadline = time.monotonic() + self.startup_timeout

    def start(self) -> None:
        """Launch the pack (unless launched already), read its port, and wait until it answers there.

        Safe to call from several threads: the first does it, the others wait for it."""
        with self._starting:
            self._start()

    def _start(self) -> None:
        self.launch()
        if self.stub is not None:
            return
        port = self._read_port()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        try:
            grpc.channel_ready_future(self.channel).result(timeout=max(0.0, self._deadline - time.monotonic()))
        except grpc.FutureTimeoutError:
            raise PackError(f"policy pack printed port {port} but does not answer there") from None
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        self._encoded = {method: self.channel.unary_unary(f"/pulumirpc.Analyzer/{method}", request_serializer=None,
                                                          response_deserializer=proto.AnalyzeResponse.FromString)
                         for method in ENCODED_REQUESTS}

    def _read_port(self) -> int:
        """The first line the pack prints, read the moment it arrives (no polling), as its port."""
        assert self.process is not None and self.process.stdout is not None
        line = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while not line.endswith(b"\n"):
                remaining = self._deadline - time.monotonic()
                if remaining <= 0:
                    raise PackError(f"policy pack printed no port within {self.startup_timeout:g}s{self._stderr_tail()}")
                if not selector.select(remaining):
                    continue
                chunk = os.read(self.process.stdout.fileno(), 64)
                if not chunk:  # end of file: the pack exited
                    self.process.wait()
                    raise PackError(f"policy pack exited with code {self.process.returncode} before it listened"
                                    f"{self._stderr_tail()}")
                line += chunk
        first = line.split(b"\n", 1)[0].strip()
        try:
            port = int(first)
        except ValueError:
            raise PackError(f"policy pack printed {first!r} instead of a port{self._stderr_tail()}") from None
        # Whatever the pack prints later is read and dropped, so it never blocks on a full pipe.
        threading.Thread(target=_drain, args=(self.process.stdout,), daemon=True).start()
        self._draining = True
        return port

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        tail = self._stderr.read().decode(errors="replace").strip().splitlines()[-15:]
        return (":\n" + "\n".join(tail)) if tail else ""

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stdout is not None and not self._draining:
            self.process.stdout.close()  # once draining, the drain thread closes it at end of file
        self.process = None
        self.stub = None
        self._encoded = {}
        if self._stderr is not None:
            self._stderr.close()

    def _call(self, method: str, request: Any) -> Any:
        assert self.stub is not None, "start() the client first"
        try:
            return (self._encoded.get(method) or getattr(self.stub, method))(request)
        except grpc.RpcError as error:
            raise PackError(f"policy pack failed in {method}: {error.details()}{self._stderr_tail()}") from None

    def info(self) -> PackInfo:
        reply = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        policies = tuple(
            PolicyInfo(
                name=p.name,
                description=p.description,
                enforcement=LEVELS.get(p.enforcementLevel, "advisory"),
                severity=SEVERITIES.get(p.severity, "unspecified"),
                stack=p.policy_type == proto.PolicyType.POLICY_TYPE_STACK,
                config_schema=json_format.MessageToDict(p.configSchema.properties) if p.HasField("configSchema") else {},
                tags=tuple(p.tags),
            )
            for p in reply.policies
        )
        # As the engine does, PulumiPolicy.yaml's version wins over the one the SDK reports.
        return PackInfo(reply.name, _declared_version(self.pack_dir) or reply.version, policies)

    def configure(self, settings: Mapping[str, PolicySetting]) -> None:
        request = proto.ConfigureAnalyzerRequest()
        for name, setting in settings.items():
            config = proto.PolicyConfig(enforcementLevel=LEVEL_CODES[setting.enforcement])
            if setting.properties:
                config.properties.update(dict(setting.properties))
            request.policyConfig[name].CopyFrom(config)
        self._call("Configure", request)

    def analyze(self, resource: Recorded) -> list[Violation]:
        request = wire.analyze_request(resource, encoded_inputs(resource))
        return [_violation(d, resource.urn) for d in self._call("Analyze", request).diagnostics]

    def send_analyze(self, resource: Recorded, properties: bytes | None = None) -> tuple[Recorded, grpc.Future]:
        """Send one Analyze call without waiting for its answer (`answers` collects them); `properties`,
        the resource's inputs already encoded as the SDK sent them, saves encoding its recorded inputs."""
        assert self.stub is not None, "start() the client first"
        encoded = properties if properties is not None else encoded_inputs(resource)
        return resource, self._encoded["Analyze"].future(wire.analyze_request(resource, encoded))

    def answers(self, pending: list[tuple[Recorded, grpc.Future]]) -> list[Violation]:
        violations = []
        for resource, reply in pending:
            try:
                diagnostics = reply.result().diagnostics
            except grpc.RpcError as error:
                for _, other in pending:
                    other.cancel()
                raise PackError(f"policy pack failed in Analyze: {error.details()}{self._stderr_tail()}") from None
            violations += [_violation(d, resource.urn) for d in diagnostics]
        return violations

    def analyze_all(self, resources: Iterable[Recorded]) -> list[Violation]:
        """Analyze every resource with the calls in flight together, as the engine sends them (it
        analyzes each resource as it registers, concurrently); the pack answers on its worker threads."""
        return self.answers([self.send_analyze(r) for r in resources])

    def analyze_stack(self, resources: Iterable[Recorded], properties: Mapping[str, bytes] | None = None) -> list[Violation]:
        """AnalyzeStack over `resources`; `properties`, encoded inputs by URN as in send_analyze."""
        resources = list(resources)
        sent = properties or {}
        encoded = {r.urn: sent[r.urn] if r.urn in sent else encoded_inputs(r) for r in resources}
        request = wire.analyze_stack_request(resources, encoded)
        return [_violation(d, None) for d in self._call("AnalyzeStack", request).diagnostics]

    def check(self, resources: list[Recorded], settings: Mapping[str, PolicySetting]) -> list[Violation]:
        """Configure, analyze each resource, then the stack: one preview's worth of policy results."""
        self.configure(settings)
        return self.analyze_all(resources) + self.analyze_stack(resources)


class StreamingAnalysis:
    """Analyze each resource the moment the program registers it, as the engine does during a preview.

    A thread connects to the pack and configures it with `settings_for(info)` while the program runs.
    `submit` (called from the mock engine as each resource registers, with its inputs as the SDK sent
    them) sends that resource's Analyze call at once, without waiting for the answer, once the pack
    is configured; until then it keeps the resource, and the thread sends those kept when the pack is
    ready. The inputs are encoded once, as the SDK sent them, for Analyze and for AnalyzeStack. The
    pack works through the calls in its own process while the program goes on declaring; `finish`
    collects the answers and runs AnalyzeStack.
    """

    def __init__(self, pack: PolicyPackClient, settings_for: Callable[[PackInfo], Mapping[str, PolicySetting]]):
        self.pack = pack
        self.settings_for = settings_for
        self.info: PackInfo | None = None
        self._lock = threading.Lock()  # submit (the program's thread) and _connect (the thread below) share the kept list
        self._ready = False
        self._kept: list[tuple[Recorded, bytes | None]] = []  # submitted before the pack was ready
        self._pending: list[tuple[Recorded, grpc.Future]] = []
        self._properties: dict[str, bytes] = {}  # encoded inputs by URN, as submitted
        self._error: BaseException | None = None
        # Sending from the program's thread itself, rather than handing each resource to a sending
        # thread, spares the hand-over of the interpreter lock per resource, which needed a 1 ms switch
        # interval to keep up (and slowed the program); at 1000 services (one run each) the wait for the
        # pack after the program fell from 3.2 s to 2.3 s.
        self._thread = threading.Thread(target=self._connect, name="policy-analysis", daemon=True)
        self._thread.start()

    def submit(self, resource: Recorded, properties: struct_pb2.Struct | None = None) -> None:
        encoded = properties.SerializeToString() if properties is not None else None
        with self._lock:
            if encoded is not None:
                self._properties[resource.urn] = encoded
            if self._ready:
                self._pending.append(self.pack.send_analyze(resource, encoded))
            else:
                self._kept.append((resource, encoded))

    def _connect(self) -> None:
        try:
            self.pack.start()
            self.info = self.pack.info()
            self.pack.configure(self.settings_for(self.info))
        except BaseException as error:  # noqa: BLE001 re-raised by finish(), in the caller's thread
            self._error = error
            return
        with self._lock:
            self._pending += [self.pack.send_analyze(resource, properties) for resource, properties in self._kept]
            self._kept.clear()
            self._ready = True

    def finish(self, resources: list[Recorded]) -> tuple[PackInfo, list[Violation]]:
        """Every Analyze answer, then AnalyzeStack over all `resources`: one preview's policy results."""
        self.stop()
        if self._error is not None:
            raise self._error
        assert self.info is not None
        return self.info, self.pack.answers(self._pending) + self.pack.analyze_stack(resources, self._properties)

    def stop(self) -> None:
        self._thread.join()
