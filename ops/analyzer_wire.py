"""Analyze and AnalyzeStack requests as bytes, put together from each resource's encoded properties.

A resource's properties are nearly all of both requests (AnalyzeStack's is 29 MB at 2000 services), and
they are already encoded when a resource registers: the SDK sent them so. Building the request messages
copied each properties message into the request (twice for AnalyzeStack: into its resource, then the
resource into the list), and gRPC encoded the copies again, on the program's thread, after the program.

In the protocol buffers wire form a message is its fields one after another, in any order, and a
length-delimited field (a string, or a message inside a message) is its number, its length and its
bytes. So a request is its small fields encoded as a message, followed by the properties' bytes as one
more field; the pack decodes exactly the message the engine would send.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pulumi.runtime import proto

from ops.engine import Recorded

_LENGTH_DELIMITED = 2  # the wire type of strings, bytes and embedded messages


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(message_type, name: str, payload: bytes) -> bytes:
    """`payload` (an encoded message) as the field `name` of `message_type`."""
    number = message_type.DESCRIPTOR.fields_by_name[name].number
    return _varint(number << 3 | _LENGTH_DELIMITED) + _varint(len(payload)) + payload


def analyze_request(resource: Recorded, properties: bytes) -> bytes:
    """One resource as the engine sends it to Analyze; `properties`, its inputs' encoded Struct."""
    head = proto.AnalyzeRequest(
        type=resource.type, urn=resource.urn, name=resource.name,
        options=proto.AnalyzerResourceOptions(parent=resource.parent or ""),
    )
    return head.SerializeToString() + _field(proto.AnalyzeRequest, "properties", properties)


def _stack_resource(resource: Recorded, properties: bytes) -> bytes:
    head = proto.AnalyzerResource(
        type=resource.type, urn=resource.urn, name=resource.name,
        options=proto.AnalyzerResourceOptions(parent=resource.parent or ""),
        parent=resource.parent or "", dependencies=list(resource.dependencies),
        propertyDependencies={k: proto.AnalyzerPropertyDependencies(urns=v)
                              for k, v in resource.property_dependencies.items() if v},
    )
    return head.SerializeToString() + _field(proto.AnalyzerResource, "properties", properties)


def analyze_stack_request(resources: Iterable[Recorded], properties: Mapping[str, bytes]) -> bytes:
    """The whole plan as the engine sends it to AnalyzeStack; `properties`, each one's encoded inputs by URN."""
    return b"".join(_field(proto.AnalyzeStackRequest, "resources", _stack_resource(r, properties[r.urn]))
                    for r in resources)
