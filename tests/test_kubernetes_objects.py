"""Kubernetes objects declared from their documents register what pulumi-kubernetes' generated classes register.

targets/kubernetes/objects.py registers each API document itself, skipping the generated class's name
translation. The DOKS stack is declared twice in fresh interpreters (tests/declared_requests.py): as the
program declares it, and with every object handed to the generated class of its kind instead (keywords in
the class's Python names). Every RegisterResource request must be the same, field by field.
"""

from __future__ import annotations

import pytest
from declared_requests import declared_requests
from pulumi_kubernetes import _utilities

from targets.kubernetes.objects import kind_of, type_token
from targets.kubernetes.stack import _balancer_ip

THROUGH_GENERATED_CLASSES = """
import importlib, sys
from pulumi import _types
import targets.kubernetes.stack  # the target's modules, imported once and reused by the program
from targets.kubernetes import objects

def through_generated_class(name, document, opts=None):
    group, _, version = document["apiVersion"].rpartition("/")
    kind = document["kind"]
    module = importlib.import_module(f"pulumi_kubernetes.{(group or 'core').split('.')[0]}.{version}.{kind}")
    python_names = {wire: py for py, wire in _types.input_type_py_to_pulumi_names(getattr(module, kind + "InitArgs")).items()}
    fields = {python_names[key]: value for key, value in document.items() if key not in ("apiVersion", "kind")}
    return getattr(module, kind)(name, opts=opts, **fields)

users = [m for name, m in list(sys.modules.items())
         if name.startswith("targets.") and getattr(m, "KubernetesObject", None) is objects.KubernetesObject]
assert len(users) >= 3, users
for module in users:
    module.KubernetesObject = through_generated_class
"""


def test_every_request_is_the_one_the_generated_classes_send():
    documents, generated = declared_requests("prod-k8s"), declared_requests("prod-k8s", THROUGH_GENERATED_CLASSES)
    for known in ("True", "False"):
        kubernetes = [r for r in documents[known] if r["type"].startswith("kubernetes:")]
        assert len(kubernetes) > 250
        assert documents[known] == generated[known]
    # what the generated classes add beyond the document is really there, so the comparison covers it
    by_type = {r["type"]: r for r in documents["True"]}
    assert by_type["kubernetes:core/v1:Secret"]["additionalSecretOutputs"] == ["data", "stringData"]
    assert by_type["kubernetes:apps/v1:Deployment"]["aliases"]
    assert {r["version"] for r in kubernetes} == {_utilities.get_version()}


@pytest.mark.parametrize(("api_version", "kind", "token"), [
    ("v1", "ConfigMap", "kubernetes:core/v1:ConfigMap"),
    ("apps/v1", "Deployment", "kubernetes:apps/v1:Deployment"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"),
    ("networking.k8s.io/v1", "NetworkPolicy", "kubernetes:networking.k8s.io/v1:NetworkPolicy"),
])
def test_the_type_token_is_the_one_the_generated_class_registers(api_version, kind, token):
    assert type_token(api_version, kind) == token
    assert kind_of(api_version, kind).token == token


def test_a_secret_keeps_its_data_secret_and_a_config_map_does_not():
    assert kind_of("v1", "Secret").secret_fields == ("data", "stringData")
    assert kind_of("v1", "ConfigMap").secret_fields == ()
    assert kind_of("v1", "ConfigMap").aliases == ()


@pytest.mark.parametrize(("api_version", "kind"), [("apps/v1", "Deploymnet"), ("apps/v9", "Deployment"), ("v1", "../v1/Secret")])
def test_a_kind_the_sdk_lacks_is_refused_by_name(api_version, kind):
    with pytest.raises(ValueError, match="has no"):
        kind_of(api_version, kind)


def test_the_load_balancer_address_is_read_from_the_status_the_api_reports():
    assert _balancer_ip({"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}}) == "203.0.113.7"
    assert _balancer_ip({"loadBalancer": {"ingress": [{"hostname": "lb.example.com"}]}}) == "lb.example.com"
    assert _balancer_ip({"loadBalancer": {}}) == ""
    assert _balancer_ip(None) == ""
