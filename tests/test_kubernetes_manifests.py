"""The DOKS target under mocks: every declared manifest passes the API schemas (strict), checkov's promised
checks, and the semantic checks no schema makes; and each gate rejects a broken manifest."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from conftest import ROOT, run_plan
from support.kubernetes_manifests import allowed_edges, by_kind, manifests, semantic_problems, write_all

from catalog.inputs import load_inputs
from ops.stackfile import read_stack_config
from render.observability.alert_rules import CONTAINER_METRIC, CONTAINER_SERVICE_LABEL
from render.observability.scrape import job_yielding
from targets.kubernetes.datastores import managed_datastores
from targets.kubernetes.prometheus import kubernetes_prometheus_yml, scrapes_kubelets
from targets.kubernetes.stack import deployed_services

STACK = "prod-k8s"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
# What the renderer promises: probes, requests and limits, no privilege or host namespaces, capabilities
# dropped, seccomp, secrets as files, not the default namespace, a NetworkPolicy for every pod.
# Not promised, and why: CKV_K8S_15 (pull Always: tags are pinned), 22/23/40 (the platform's images run as
# root and write their root filesystem at b7cfbe3), 38 (Prometheus reads the API for service discovery),
# 43 (digests: the catalog pins release tags, the image-pinned policy's rule), 25 (added capabilities: the
# in-cluster datastores add back the catalog's cap_add, which their entrypoints need to drop to their user).
PROMISED_CHECKS = ("CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_10", "CKV_K8S_11", "CKV_K8S_12", "CKV_K8S_13",
                   "CKV_K8S_16", "CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19", "CKV_K8S_20", "CKV_K8S_21",
                   "CKV_K8S_28", "CKV_K8S_29", "CKV_K8S_30", "CKV_K8S_31", "CKV_K8S_35",
                   "CKV_K8S_37", "CKV_K8S_39", "CKV2_K8S_6")


@pytest.fixture(scope="module")
def inputs():
    config = read_stack_config(STACK)
    return load_inputs(config.config, STACK)


def _plan(datastores: str):
    cluster = json.loads(read_stack_config(STACK).config["devtools:kubernetes"])
    return run_plan(stack=STACK, overrides={"devtools:kubernetes": json.dumps({**cluster, "datastores": datastores})})


@pytest.fixture(scope="module")
def k8s_plan():
    return run_plan(stack=STACK)


@pytest.fixture(scope="module")
def docs(k8s_plan):
    return manifests(k8s_plan)


@pytest.fixture(scope="module", params=["managed", "statefulset"])
def mode_docs(request):
    """The manifests of both datastore modes: managed databases (the shipped stack) or StatefulSets."""
    return manifests(_plan(request.param))


def _version(inputs) -> str:
    return f"{inputs.settings.kubernetes.minor}.0"


def schema_failures(docs: list[dict], version: str) -> list[str]:
    failures = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as error:
            failures.append(f"{doc['kind']} {doc['metadata'].get('name')}: {(str(error).splitlines() or [type(error).__name__])[0]}")
    return failures


def checkov_failures(docs: list[dict], directory: Path) -> tuple[list[str], int]:
    write_all(docs, directory)
    result = subprocess.run([str(CHECKOV), "-d", str(directory), "--framework", "kubernetes", "--skip-download",
                             "--check", ",".join(PROMISED_CHECKS), "-o", "json", "--quiet"],
                            capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    failed = [f"{c['check_id']} {c['resource']}" for c in report.get("results", {}).get("failed_checks", [])]
    return failed, report["summary"]["passed"] + report["summary"]["failed"]


# --- the shipped stack passes every gate -----------------------------------------------------

def test_every_kubernetes_resource_goes_through_the_cluster_provider(k8s_plan):
    providers = [r for r in k8s_plan if r.type == "pulumi:providers:kubernetes"]
    assert len(providers) == 1
    objects = [r for r in k8s_plan if r.type.startswith("kubernetes:")]
    assert objects and all(r.provider and r.provider.startswith(providers[0].urn) for r in objects)


def test_every_manifest_passes_the_strict_schemas_of_the_doks_minor(mode_docs, inputs):
    assert len(mode_docs) > 100
    assert schema_failures(mode_docs, _version(inputs)) == []


def test_checkov_promised_checks_pass(mode_docs, tmp_path):
    failed, ran = checkov_failures(mode_docs, tmp_path)
    assert failed == []
    assert ran >= len(by_kind(mode_docs, "Deployment", "StatefulSet", "DaemonSet", "Job")) * 10


def test_semantics_no_schema_checks(mode_docs):
    assert semantic_problems(mode_docs) == []


def test_statefulset_mode_runs_the_datastores_in_the_cluster_on_block_storage(inputs):
    docs = manifests(_plan("statefulset"))
    stores = {n for n, s in inputs.catalog.services.items() if s.role == "datastore"}
    sets = {d["metadata"]["name"]: d for d in by_kind(docs, "StatefulSet")}
    assert set(sets) == stores
    for name, statefulset in sets.items():
        (claim,) = statefulset["spec"]["volumeClaimTemplates"]
        assert claim["spec"]["storageClassName"] == "do-block-storage"
        assert statefulset["spec"]["serviceName"] == name
    assert not [d for d in docs if d["kind"] == "Service" and d["spec"].get("type") == "ExternalName"]


def test_allow_edges_equal_the_catalog_dependency_edges(docs, inputs):
    catalog = inputs.catalog
    deployed = set(deployed_services(inputs))
    managed = set(managed_datastores(inputs))
    expected = {(client, server) for client in deployed for server in catalog.services[client].dependencies
                if server in managed or (server in deployed and catalog.services[server].port)}
    egress, ingress = allowed_edges(docs)
    assert egress == expected
    assert ingress == {(c, s) for c, s in expected if s not in managed}


def test_replicated_services_have_a_budget_and_spread_and_autoscaled_ones_leave_the_count_to_the_autoscaler(docs, inputs):
    budgets = {d["metadata"]["name"] for d in by_kind(docs, "PodDisruptionBudget")}
    autoscalers = {d["spec"]["scaleTargetRef"]["name"]: d["spec"] for d in by_kind(docs, "HorizontalPodAutoscaler")}
    replicated = 0
    for deployment in by_kind(docs, "Deployment"):
        name = deployment["metadata"]["name"]
        spec = inputs.catalog.services[name]
        if spec.autoscaling:
            assert "replicas" not in deployment["spec"]
            assert (autoscalers[name]["minReplicas"], autoscalers[name]["maxReplicas"]) == (
                spec.autoscaling.min_replicas, spec.autoscaling.max_replicas)
        else:
            assert deployment["spec"]["replicas"] == spec.replicas
        if spec.replicas > 1 or spec.autoscaling:
            replicated += 1
            assert name in budgets
            assert deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert replicated


def test_secrets_arrive_as_files_only(docs, inputs):
    for workload in by_kind(docs, "Deployment", "StatefulSet", "DaemonSet", "Job"):
        container = workload["spec"]["template"]["spec"]["containers"][0]
        name = container["name"]
        wanted = {m.source for m in inputs.catalog.services[name].secret_mounts}
        projected = [v for v in workload["spec"]["template"]["spec"]["volumes"] if "projected" in v]
        files = {item["path"] for v in projected for src in v["projected"]["sources"] for item in src["secret"]["items"]}
        assert files == wanted
        if wanted:
            assert any(m["mountPath"] == "/run/secrets" and m["readOnly"] for m in container["volumeMounts"])
        assert all("secretKeyRef" not in env.get("valueFrom", {}) for env in container.get("env", []))
        assert not container.get("envFrom")


def test_migrations_run_as_a_job_before_the_services_that_need_them(k8s_plan, inputs):
    jobs = [r for r in k8s_plan if r.type == "kubernetes:batch/v1:Job"]
    assert jobs
    for job in jobs:
        service = job.name
        dependents = [n for n, s in inputs.catalog.services.items() if service in s.dependencies]
        assert dependents
        for dependent in dependents:
            (workload,) = [r for r in k8s_plan if r.name == dependent and r.type.startswith("kubernetes:apps/")]
            assert job.urn in workload.dependencies


def test_managed_databases_are_private_and_reached_only_from_the_cluster(k8s_plan):
    cluster = next(r for r in k8s_plan if r.type == "digitalocean:index/kubernetesCluster:KubernetesCluster")
    databases = [r for r in k8s_plan if r.type == "digitalocean:index/databaseCluster:DatabaseCluster"]
    assert {d.inputs["engine"] for d in databases} == {"pg", "valkey"}
    assert all(d.inputs["privateNetworkUuid"] and d.inputs["maintenanceWindows"] for d in databases)
    firewalls = [r for r in k8s_plan if r.type == "digitalocean:index/databaseFirewall:DatabaseFirewall"]
    assert len(firewalls) == len(databases)
    assert all([rule["type"] for rule in f.inputs["rules"]] == ["k8s"] for f in firewalls)
    assert all(cluster.urn in f.dependencies for f in firewalls)


def test_cluster_control_plane_is_restricted_and_upgrades_surge(k8s_plan, inputs):
    cluster = next(r for r in k8s_plan if r.type == "digitalocean:index/kubernetesCluster:KubernetesCluster").inputs
    assert cluster["controlPlaneFirewall"] == {"enabled": True, "allowedAddresses": list(inputs.settings.admin_cidrs)}
    assert cluster["surgeUpgrade"] is True and cluster["maintenancePolicy"]["day"] == "sunday"
    pool = cluster["nodePool"]
    assert (pool["autoScale"], pool["minNodes"], pool["maxNodes"]) == (True, 3, 5)


def test_the_kubeconfig_output_is_secret(k8s_plan):
    provider = next(r for r in k8s_plan if r.type == "pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"]["4dabf18193072939515e22adb298388d"] == "1b47061264138c4ac30d75fd1eb44270"


def test_prometheus_config_uses_kubernetes_discovery_and_passes_promtool(docs, tmp_path):
    """Debian's promtool is built without Kubernetes discovery, so it checks everything else of the file
    (jobs, relabelling, alerting, rule files) with each discovery block swapped for a file one."""
    (config_map,) = [d for d in by_kind(docs, "ConfigMap") if "prometheus_yml" in d.get("data", {})]
    config = yaml.safe_load(config_map["data"]["prometheus_yml"])
    jobs = config["scrape_configs"]
    pods, nodes = ([j for j in jobs if j["kubernetes_sd_configs"] == [sd]]
                   for sd in ({"role": "pod", "namespaces": {"names": ["devtools"]}}, {"role": "node"}))
    assert pods and len(nodes) == 1 and len(pods) + len(nodes) == len(jobs)
    assert not any("static_configs" in job for job in jobs)
    for job in jobs:
        del job["kubernetes_sd_configs"]
        job["file_sd_configs"] = [{"files": [str(tmp_path / "targets.json")]}]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    result = subprocess.run(["promtool", "check", "config", "--syntax-only", str(tmp_path / "prometheus.yml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# --- each gate rejects a broken manifest --------------------------------------------------------

def _first(docs, kind):
    return next(d for d in docs if d["kind"] == kind)


def test_schema_gate_rejects_an_unknown_field_a_wrong_type_and_an_unknown_api(docs, inputs):
    unknown_field, wrong_type, unknown_api = (copy.deepcopy(_first(docs, "Deployment")) for _ in range(3))
    unknown_field["spec"]["template"]["spec"]["containers"][0]["memoryLimit"] = "1Gi"
    wrong_type["spec"]["replicas"] = "two"
    unknown_api["apiVersion"] = "apps/v1beta9"
    assert len(schema_failures([unknown_field, wrong_type, unknown_api], _version(inputs))) == 3


def test_checkov_gate_rejects_a_container_without_limits_or_probes(docs, tmp_path):
    broken = copy.deepcopy(_first(docs, "Deployment"))
    container = broken["spec"]["template"]["spec"]["containers"][0]
    del container["resources"], container["livenessProbe"]
    failed, _ = checkov_failures([broken], tmp_path)
    assert {f.split()[0] for f in failed} >= {"CKV_K8S_8", "CKV_K8S_11", "CKV_K8S_13", "CKV2_K8S_6"}


@pytest.mark.parametrize("breakage, expected", [
    ("selector", "does not match its pod labels"),
    ("probe-port", "is not a declared container port"),
    ("service-target", "targetPort"),
    ("hpa-target", "does not exist"),
    ("secret-volume", "which is not declared"),
    ("no-policy", "no NetworkPolicy"),
    ("name", "not a valid DNS-1123 name"),
    ("secret-env", "mount it as a file"),
    ("mount", "names no volume of the pod"),
    ("pull-secret", "imagePullSecrets names Secret"),
])
def test_semantic_gate_rejects(docs, breakage, expected):
    broken = copy.deepcopy(docs)
    deployment = next(d for d in broken if d["kind"] == "Deployment" and d["spec"]["template"]["spec"]["containers"][0].get("livenessProbe", {}).get("httpGet"))
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    if breakage == "selector":
        deployment["spec"]["selector"]["matchLabels"] = {"app.kubernetes.io/name": "nobody"}
    elif breakage == "probe-port":
        container["livenessProbe"]["httpGet"]["port"] = "nonexistent"
    elif breakage == "service-target":
        service = next(d for d in broken if d["kind"] == "Service" and d["metadata"]["name"] == deployment["metadata"]["name"])
        service["spec"]["ports"][0]["targetPort"] = 1
    elif breakage == "hpa-target":
        next(d for d in broken if d["kind"] == "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]["name"] = "missing"
    elif breakage == "secret-volume":
        next(d for d in broken if d["kind"] == "Secret" and d["metadata"]["name"] in json.dumps(pod))["metadata"]["name"] = "renamed"
    elif breakage == "no-policy":
        broken = [d for d in broken if not (d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "default-deny")]
    elif breakage == "name":
        next(d for d in broken if d["kind"] == "ConfigMap")["metadata"]["name"] = "Bad_Name"
    elif breakage == "pull-secret":
        pod["imagePullSecrets"] = [{"name": "not-declared"}]
    elif breakage == "mount":
        container["volumeMounts"].append({"name": "undeclared", "mountPath": "/data"})
    elif breakage == "secret-env":
        container["env"].append({"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "x", "key": "value"}}})
    assert any(expected in problem for problem in semantic_problems(broken))


def test_edge_gate_notices_a_missing_and_an_extra_edge(docs):
    egress, _ = allowed_edges(docs)
    dependency_egress = [d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"].endswith("-egress")
                         and d["metadata"]["labels"]["devtools/edge-kind"] == "dependency"]
    missing = [d for d in docs if d is not dependency_egress[0]]
    assert allowed_edges(missing)[0] == egress - {tuple(dependency_egress[0]["metadata"]["name"].removesuffix("-egress").split("-to-"))}
    extra = copy.deepcopy(dependency_egress[0])
    extra["spec"]["egress"][0]["to"] = [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "not-in-the-catalog"}}}]
    assert allowed_edges(docs + [extra])[0] != egress


def test_log_shipper_runs_per_node_on_pod_log_files_and_nothing_mounts_a_docker_socket(docs, inputs):
    daemonsets = by_kind(docs, "DaemonSet")
    assert all(v.get("hostPath", {}).get("path") != "/var/run/docker.sock"
               for d in by_kind(docs, *("Deployment", "StatefulSet", "DaemonSet", "Job"))
               for v in d["spec"]["template"]["spec"]["volumes"])
    shippers = [d for d in daemonsets if any(v.get("hostPath", {}).get("path") == "/var/log/pods"
                                             for v in d["spec"]["template"]["spec"]["volumes"])]
    assert len(shippers) == 1
    name = shippers[0]["metadata"]["name"]
    (config_map,) = [d for d in by_kind(docs, "ConfigMap") if d["metadata"]["name"] == f"{name}-config"]
    (config,) = config_map["data"].values()
    assert 'discovery.kubernetes "pods"' in config and "discovery.docker" not in config
    # The Loki side is the catalog renderer's own block, unchanged.
    loki = inputs.catalog.services[next(n for n, s in inputs.catalog.services.items()
                                       if any(c.source == "loki_yaml" for c in s.configs))]
    assert f":{loki.port}/loki/api/v1/push" in config
    assert shippers[0]["spec"]["template"]["spec"]["serviceAccountName"] == f"{name}-discovery"


def test_only_the_edge_is_public_and_only_on_the_ports_the_catalog_publishes(docs, inputs):
    balancers = [d for d in by_kind(docs, "Service") if d["spec"].get("type") == "LoadBalancer"]
    (edge,) = [n for n, s in inputs.catalog.services.items() if s.ports]
    assert [b["metadata"]["name"] for b in balancers] == [edge]
    published = sorted(int(p.split(":")[-2]) for p in inputs.catalog.services[edge].ports)
    assert sorted(p["port"] for p in balancers[0]["spec"]["ports"]) == published
    assert balancers[0]["spec"]["externalTrafficPolicy"] == "Local"


def test_plain_variable_secrets_go_through_the_same_entrypoint_wrapper_as_on_the_droplet(docs, inputs):
    from render.registry import RENDERERS
    from render.secrets_wrapper import WRAPPER_PATH, wrapper_entrypoint

    wrapped = {n: s for n, s in inputs.catalog.services.items() if s.exported_secrets}
    assert wrapped
    workloads = {d["metadata"]["name"]: d for d in by_kind(docs, "Deployment", "StatefulSet", "DaemonSet", "Job")}
    config_maps = {d["metadata"]["name"]: d for d in by_kind(docs, "ConfigMap")}
    for name, spec in wrapped.items():
        if name not in workloads:
            continue  # omitted by the stack, or a managed datastore
        container = workloads[name]["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == wrapper_entrypoint() and container["args"] == spec.command
        assert {"name": "config", "mountPath": WRAPPER_PATH, "subPath": "secrets_wrapper", "readOnly": True} in container["volumeMounts"]
        assert config_maps[f"{name}-config"]["data"]["secrets_wrapper"] == RENDERERS["secrets_wrapper"](spec, inputs.settings)
        assert not {variable for variable, _ in spec.exported_secrets} & {e["name"] for e in container["env"]}


def test_environment_values_are_resolved_for_the_stack(docs):
    for workload in by_kind(docs, "Deployment", "StatefulSet", "DaemonSet", "Job"):
        for env in workload["spec"]["template"]["spec"]["containers"][0].get("env", []):
            assert "${" not in env.get("value", ""), (workload["metadata"]["name"], env["name"])


def test_config_files_come_from_the_renderer_registry_as_on_the_droplet(docs, inputs):
    from render.registry import render
    from targets.kubernetes.renderers import KUBERNETES_RENDERERS

    catalog, settings = inputs.catalog, inputs.settings
    compared = 0
    for config_map in by_kind(docs, "ConfigMap"):
        service = config_map["metadata"]["labels"]["app.kubernetes.io/name"]
        spec = catalog.services[service]
        for mount in spec.configs:
            renderer = catalog.configs[mount.source].renderer
            text = render(renderer, catalog, spec, settings)
            if renderer in KUBERNETES_RENDERERS:
                # Only how targets are found changes: the cluster's file is derived from the renderer's.
                text = KUBERNETES_RENDERERS[renderer](text, settings.kubernetes.namespace)
            # Rules, dashboards, Traefik's routes, redis.conf...: the function the droplet uploads from.
            assert config_map["data"][mount.source] == text, (service, mount.source)
            compared += 1
    assert compared >= 10


def test_container_metrics_come_from_every_kubelet_through_the_api_server(docs, inputs):
    """No node has a Docker socket: the job yielding the container metrics reads each kubelet's cAdvisor through
    the API server proxy, bound to a ClusterRole that allows just that, and relabels the pod's container (the
    catalog service) into the label the rules and the dashboard select on."""
    (config_map,) = [d for d in by_kind(docs, "ConfigMap") if "prometheus_yml" in d.get("data", {})]
    config = yaml.safe_load(config_map["data"]["prometheus_yml"])
    (job,) = [j for j in config["scrape_configs"] if j["kubernetes_sd_configs"] == [{"role": "node"}]]
    assert job["job_name"] == job_yielding(inputs.catalog, CONTAINER_METRIC)
    path = next(r for r in job["relabel_configs"] if r.get("target_label") == "__metrics_path__")
    assert path["replacement"] == "/api/v1/nodes/${1}/proxy/metrics/cadvisor"
    assert job["authorization"]["credentials_file"].endswith("/serviceaccount/token") and job["scheme"] == "https"
    relabel = next(r for r in job["metric_relabel_configs"] if r.get("source_labels") == ["container"])
    assert relabel["target_label"] == CONTAINER_SERVICE_LABEL
    rules = config_map["data"]["prometheus_rules"]
    assert f'job="{job["job_name"]}",{CONTAINER_SERVICE_LABEL}=' in rules
    (role,) = by_kind(docs, "ClusterRole")
    (binding,) = by_kind(docs, "ClusterRoleBinding")
    assert {"nodes/proxy", "nodes/metrics"} <= {r for rule in role["rules"] for r in rule["resources"]}
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    (prometheus,) = [d for d in by_kind(docs, "Deployment", "StatefulSet")
                     if d["metadata"]["name"] == job_yielding(inputs.catalog, "prometheus_build_info")]
    pod = prometheus["spec"]["template"]["spec"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": pod["serviceAccountName"], "namespace": "devtools"}]
    assert pod["automountServiceAccountToken"] is True


def test_a_catalog_without_the_container_family_grants_no_node_access():
    rendered = yaml.safe_dump({"scrape_configs": [{"job_name": "api", "metrics_path": "/metrics", "static_configs": [
        {"targets": ["api:8000"], "labels": {"service": "api", "__devtools_yields": "http,python"}}]}]})
    assert not scrapes_kubelets(kubernetes_prometheus_yml(rendered, "devtools"))
    with_containers = rendered.replace("http,python", "cadvisor,go")
    assert scrapes_kubelets(kubernetes_prometheus_yml(with_containers, "devtools"))
