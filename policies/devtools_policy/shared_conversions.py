"""Each resource's properties converted once, for every policy and every analyzer call that sees them.

pulumi-policy's servicer (`pulumi_policy.policy._PolicyAnalyzerServicer`, 1.21) converts a request's
properties anew for each policy it runs: `json_format.MessageToDict`, then `deserialize_properties`,
then `unknown_checking_proxy`, on the same message every time, and reads its options again into a new
`PolicyResourceOptions`. With one policy per rule that walks each resource once per resource policy in
Analyze, and the whole plan once per stack policy in AnalyzeStack; and AnalyzeStack sends, at the very
end of a preview, every resource that its Analyze call already converted. The same properties always
convert to the same result, and no rule writes to the read-only view it gets (rules read `thaw`ed
copies), so the first conversion serves every later one.

`install()` points the servicer module's three conversion names, and the servicer's options reader, at
versions that remember what they gave. MessageToDict remembers by the message (the same object, as
within one call) and, failing that, by the message's content (its serialized bytes: AnalyzeStack's copy
of a resource is another object); the steps after it remember by the object they were given, which is
what the step before remembered. The pack's `thaw` is remembered the same way (`once`). Each result is
kept with the object it is keyed on, so no id is reused while its entry lasts.

The memory lasts one run of the engine: it is emptied when AnalyzeStack, the last call of a preview,
has answered (a pack that serves several previews, as the tests' does, starts each one empty). Within
a run it keeps the last KEPT results, far more than a whole plan needs, since a plan the memory cannot
hold is converted again by every stack policy. A pulumi-policy whose servicer lacks these names is left
as it is: the pack is slower there, and judges the same.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any

import pulumi_policy.policy as sdk
from google.protobuf import json_format
from google.protobuf.message import Message

CONVERSIONS = ("deserialize_properties", "unknown_checking_proxy")
# Entries per resource: its message (once per call that sends it), its content, the three steps after,
# its options and its stack rules' prepare step (pack.py); this is room for well over 100 000 resources
# in one run, more than a 2000-service DOKS plan has (33 868, about 7 entries each).
KEPT = 1 << 20


class _Remembered:
    """A bounded memory of results, the oldest forgotten first; shared by the gRPC server's threads.

    Reading takes no lock (a dict lookup is atomic); only adding does, so that the count stays bounded.
    An OrderedDict, as it forgets its oldest entry in constant time: a plain dict finds its first entry
    by stepping over the slots its earlier deletions left, so once full every addition walked them all
    (DOKS at 700 services: about 8 s of the pack's time, most of it after the program had ended).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Any, tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> tuple[Any, Any] | None:
        return self._entries.get(key)

    def put(self, key: Any, held: Any, result: Any) -> Any:
        with self._lock:
            self._entries[key] = (held, result)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return result

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


REMEMBERED = _Remembered(KEPT)


def _remembered(value: Any, kind: Any, compute: Callable[[], Any]) -> Any:
    """`compute()`, computed once for the same `value` object and `kind` while it is remembered."""
    key = (id(value), kind)
    entry = REMEMBERED.get(key)
    if entry is not None:
        return entry[1]
    return REMEMBERED.put(key, value, compute())  # `value` is held: its id stays its own


def once(value: Any, convert: Callable[[Any], Any]) -> Any:
    """`convert(value)`, computed once for the same `value` object while it is remembered."""
    return _remembered(value, convert, lambda: convert(value))


def _message_to_dict_once(message: Message, *rest: Any, **options: Any) -> Any:
    if rest or options:  # another rendering of the message: not shared
        return json_format.MessageToDict(message, *rest, **options)

    def by_content() -> Any:
        content = ("content", message.SerializeToString(deterministic=True))
        entry = REMEMBERED.get(content)
        return entry[1] if entry is not None else REMEMBERED.put(content, None, json_format.MessageToDict(message))

    return _remembered(message, json_format.MessageToDict, by_content)


def _converted_once(convert: Callable) -> Callable:
    @wraps(convert)
    def converted(value, *rest, **options):
        if rest or options:  # another conversion of the same value (Remediate keeps secrets): not shared
            return convert(value, *rest, **options)
        return once(value, convert)

    converted.shared = True
    return converted


def _options_once(read: Callable) -> Callable:
    """The servicer's options reader, once per request message: it reads only the message."""
    @wraps(read)
    def options(servicer, request):
        return _remembered(request, read, lambda: read(servicer, request))

    return options


def _forgotten_after(analyze_stack: Callable) -> Callable:
    """AnalyzeStack, emptying the memory once it has answered: the run it served is over."""
    @wraps(analyze_stack)
    def analyzed(servicer, request, context):
        try:
            return analyze_stack(servicer, request, context)
        finally:
            REMEMBERED.clear()

    return analyzed


class _JsonFormat:
    """`google.protobuf.json_format` as the servicer sees it, with MessageToDict remembered."""

    MessageToDict = staticmethod(_message_to_dict_once)

    def __getattr__(self, name: str) -> Any:
        return getattr(json_format, name)


def install() -> bool:
    """Share conversions in the SDK's servicer; False if this pulumi-policy has another shape."""
    servicer = getattr(sdk, "_PolicyAnalyzerServicer", None)
    if servicer is None or sdk.__dict__.get("json_format") is None:
        return False
    if not all(callable(getattr(sdk, name, None)) for name in CONVERSIONS) or not all(
            callable(getattr(servicer, name, None)) for name in ("_get_resource_options", "AnalyzeStack")):
        return False
    if getattr(sdk.deserialize_properties, "shared", False):
        return True
    for name in CONVERSIONS:
        setattr(sdk, name, _converted_once(getattr(sdk, name)))
    sdk.json_format = _JsonFormat()
    servicer._get_resource_options = _options_once(servicer._get_resource_options)
    servicer.AnalyzeStack = _forgotten_after(servicer.AnalyzeStack)
    return True
