"""A Kubernetes object declared from its API document, registered as pulumi-kubernetes' own class registers it.

pulumi-kubernetes generates a class per kind (`apps.v1.Deployment`) whose keyword arguments are the
document's fields in Python's snake_case. On each registration it resolves the type hints of every nested
input and output class it meets, to translate those names into the API's camelCase and back. The
documents this target builds (manifests.py, network.py) are in the API's own names already, so that work
changes nothing they send; yet it was half of the DOKS program's time (0.3 s of a 1.3 s preview, importing
the classes included).

`KubernetesObject` registers the document itself, with what the generated class adds to the request:

- the type token, `kubernetes:<group>/<version>:<Kind>` (the core group as `core`);
- the provider's version, from the SDK's own defaults;
- the aliases the class declares (the kind under its older API versions), and the fields it treats as
  secret (a Secret's `data` and `stringData`), made secret as inputs and marked secret as outputs.

The last two are read from the generated class's source, without importing it; a kind the SDK lacks is
refused. tests/test_kubernetes_objects.py declares the whole DOKS stack both ways and compares every
request. A mistyped field is not caught here, as a keyword the class lacks would be, but by the strict
schema validation every manifest passes in the tests.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi_kubernetes import _utilities

SDK_PACKAGE = "pulumi_kubernetes"
_ALIAS = re.compile(r'pulumi\.Alias\(type_="([^"]+)"\)')
_SECRET_OUTPUTS = re.compile(r"additional_secret_outputs=\[([^\]]*)\]")
_QUOTED = re.compile(r'"([^"]+)"')
_KIND = re.compile(r"[A-Z][A-Za-z0-9]*")
_VERSION = re.compile(r"v[0-9]+[a-z0-9]*")


def type_token(api_version: str, kind: str) -> str:
    """The type pulumi-kubernetes registers a kind as: `apps/v1` Deployment is `kubernetes:apps/v1:Deployment`."""
    group, _, version = api_version.rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{kind}"


@dataclass(frozen=True)
class Kind:
    token: str
    aliases: tuple[str, ...]            # type tokens of the same kind under older API versions
    secret_fields: tuple[str, ...]      # top-level fields the SDK keeps secret


def _generated_source(api_version: str, kind: str) -> str:
    """The generated class's module: the group's first DNS label is its folder (`rbac.authorization.k8s.io` -> rbac)."""
    group, _, version = api_version.rpartition("/")
    spec = importlib.util.find_spec(SDK_PACKAGE)
    assert spec is not None and spec.submodule_search_locations
    path = Path(spec.submodule_search_locations[0], (group or "core").split(".")[0], version, f"{kind}.py")
    if not (_KIND.fullmatch(kind) and _VERSION.fullmatch(version) and path.is_file()):
        raise ValueError(f"{SDK_PACKAGE} has no {kind} in {api_version} (looked for {path})")
    return path.read_text(encoding="utf-8")


@functools.cache
def kind_of(api_version: str, kind: str) -> Kind:
    token = type_token(api_version, kind)
    source = _generated_source(api_version, kind)
    if f"'{token}'" not in source:  # the class registers another type than the one derived here
        raise ValueError(f"{SDK_PACKAGE}'s {kind} class does not register {token}")
    secrets = _SECRET_OUTPUTS.search(source)
    return Kind(token, tuple(_ALIAS.findall(source)), tuple(_QUOTED.findall(secrets.group(1))) if secrets else ())


def _options(kind: Kind, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """The generated class's options, merged in its order: SDK defaults, the caller's, aliases, secret outputs."""
    merged = pulumi.ResourceOptions.merge(_utilities.get_resource_opts_defaults(), opts)
    if kind.aliases:
        merged = pulumi.ResourceOptions.merge(
            merged, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=alias) for alias in kind.aliases]))
    if kind.secret_fields:
        merged = pulumi.ResourceOptions.merge(
            merged, pulumi.ResourceOptions(additional_secret_outputs=list(kind.secret_fields)))
    return merged


class KubernetesObject(pulumi.CustomResource):
    """One API object; its outputs are the document's fields (plain dicts, the API's names) and `status`."""

    status: pulumi.Output[Any]  # what the API server reports; unknown until the object exists

    def __init__(self, name: str, document: Mapping[str, Any], opts: pulumi.ResourceOptions | None = None):
        kind = kind_of(document["apiVersion"], document["kind"])
        props = {field: pulumi.Output.secret(value) if field in kind.secret_fields and value is not None else value
                 for field, value in document.items()}
        props.setdefault("status", None)  # an output only, as the generated classes declare it
        super().__init__(kind.token, name, props, _options(kind, opts))
