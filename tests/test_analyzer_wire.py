"""The Analyze and AnalyzeStack requests put together as bytes decode to the messages protobuf itself builds.

The reference messages are built here field by field, as ops/analyzer.py built them before the requests
were put together from encoded properties, over every resource of both shipped plans.
"""

from __future__ import annotations

import pytest
from pulumi.runtime import proto

from ops import analyzer_wire as wire
from ops.analyzer import _struct, encoded_inputs
from ops.engine import Recorded
from tests.conftest import run_plan


def _options(resource):
    return proto.AnalyzerResourceOptions(parent=resource.parent or "")


@pytest.fixture(scope="module", params=[("prod", True), ("prod", False), ("prod-k8s", True)], ids=str)
def plan(request):
    stack, known = request.param
    return run_plan(stack=stack, known=known)


def test_each_analyze_request_decodes_to_the_message_protobuf_builds(plan):
    for resource in plan:
        expected = proto.AnalyzeRequest(type=resource.type, urn=resource.urn, name=resource.name,
                                        properties=_struct(resource.inputs), options=_options(resource))
        assert proto.AnalyzeRequest.FromString(wire.analyze_request(resource, encoded_inputs(resource))) == expected


def test_the_analyze_stack_request_decodes_to_the_message_protobuf_builds(plan):
    expected = proto.AnalyzeStackRequest(resources=[
        proto.AnalyzerResource(
            type=r.type, urn=r.urn, name=r.name, properties=_struct(r.inputs), options=_options(r),
            parent=r.parent or "", dependencies=list(r.dependencies),
            propertyDependencies={k: proto.AnalyzerPropertyDependencies(urns=v) for k, v in r.property_dependencies.items() if v})
        for r in plan])
    assert any(r.property_dependencies for r in plan) and any(r.dependencies for r in plan)
    encoded = wire.analyze_stack_request(plan, {r.urn: encoded_inputs(r) for r in plan})
    assert proto.AnalyzeStackRequest.FromString(encoded) == expected


@pytest.mark.parametrize("length", [1, 127, 128, 300, 16383, 16384, 2_097_151, 2_097_152])
def test_a_field_is_encoded_as_protobuf_encodes_it(length):
    """Lengths on both sides of each varint byte boundary (an empty text is no field at all in proto3)."""
    text = "u" * length
    assert wire._field(proto.AnalyzeRequest, "urn", text.encode()) == proto.AnalyzeRequest(urn=text).SerializeToString()


def test_empty_properties_are_present_and_empty_as_protobuf_has_them():
    resource = Recorded(type="devtools:x:Component", urn="urn:pulumi:prod::devtools::devtools:x:Component::c",
                        name="c", parent=None, dependencies=[], custom=False, inputs={})
    assert encoded_inputs(resource) == b""
    decoded = proto.AnalyzeRequest.FromString(wire.analyze_request(resource, b""))
    assert decoded.HasField("properties") and not decoded.properties.fields
