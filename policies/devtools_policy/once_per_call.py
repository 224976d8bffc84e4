"""Each resource's properties converted once per analyzer call, for every policy of that call.

pulumi-policy's servicer (`pulumi_policy.policy._PolicyAnalyzerServicer`, 1.21) converts a request's
properties anew for each policy it runs: `json_format.MessageToDict`, then `deserialize_properties`,
then `unknown_checking_proxy`, on the same message every time. With one policy per rule that walks each
resource once per resource policy in Analyze, and the whole plan once per stack policy in AnalyzeStack:
most of the pack's time on a large plan. The same message gives the same result every time, and no rule
writes to the read-only view it gets (rules read `thaw`ed copies), so within one call the first policy's
conversion serves the rest.

`install()` wraps the servicer's Analyze and AnalyzeStack so that each call has a memo of its own
(per thread: the gRPC server runs calls concurrently, each on one thread), and points the servicer
module's three conversion names at versions that use it; outside such a call they are the SDK's own.
The memo holds each object it keys on, so no id is reused while the call lasts, and goes with the call.
A pulumi-policy without these names is left as it is: the pack is slower there, and judges the same.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import wraps
from typing import Any

import pulumi_policy.policy as sdk
from google.protobuf import json_format

CALLS = ("Analyze", "AnalyzeStack")
CONVERSIONS = ("deserialize_properties", "unknown_checking_proxy")

_current = threading.local()


def once(value: Any, convert: Callable[[Any], Any]) -> Any:
    """`convert(value)`, computed once per analyzer call for the same `value` object (every time outside one)."""
    memo = getattr(_current, "memo", None)
    if memo is None:
        return convert(value)
    key = (id(value), convert)
    entry = memo.get(key)
    if entry is None:
        entry = memo[key] = (value, convert(value))  # `value` is held: its id stays its own
    return entry[1]


def _within_one_call(method: Callable) -> Callable:
    @wraps(method)
    def call(self, request, context):
        outer = getattr(_current, "memo", None)
        _current.memo = {}
        try:
            return method(self, request, context)
        finally:
            _current.memo = outer

    call.once_per_call = True
    return call


def _converted_once(convert: Callable) -> Callable:
    @wraps(convert)
    def converted(value, *rest, **options):
        if rest or options:  # another conversion of the same value (Remediate keeps secrets): not shared
            return convert(value, *rest, **options)
        return once(value, convert)

    return converted


class _JsonFormat:
    """`google.protobuf.json_format` as the servicer sees it, with MessageToDict converting once per call."""

    MessageToDict = staticmethod(_converted_once(json_format.MessageToDict))

    def __getattr__(self, name: str) -> Any:
        return getattr(json_format, name)


def install() -> bool:
    """Share conversions within each call of the SDK's servicer; False if this pulumi-policy has another shape."""
    servicer = getattr(sdk, "_PolicyAnalyzerServicer", None)
    if servicer is None or not all(hasattr(servicer, name) for name in CALLS):
        return False
    if not all(callable(getattr(sdk, name, None)) for name in CONVERSIONS) or sdk.__dict__.get("json_format") is None:
        return False
    if getattr(servicer.Analyze, "once_per_call", False):
        return True
    for name in CALLS:
        setattr(servicer, name, _within_one_call(getattr(servicer, name)))
    for name in CONVERSIONS:
        setattr(sdk, name, _converted_once(getattr(sdk, name)))
    sdk.json_format = _JsonFormat()
    return True
