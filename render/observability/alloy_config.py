"""config.alloy: Grafana Alloy reads every container's logs from Docker and ships them to Loki.

Each line is labelled with the catalog service and role (the container labels
devtools.service and devtools.role the program sets), so `{service="orchestrator"}`
in Loki is the orchestrator's log. Containers outside this stack are skipped.
"""

from __future__ import annotations

from catalog.services import Catalog, Service
from catalog.settings import Settings
from render.observability.scrape import LOKI_RENDERER, receiving

DOCKER_SOCKET = "/var/run/docker.sock"
RENDERER = "alloy_config"
LABELS = {"service": "devtools_service", "role": "devtools_role", "version": "devtools_version"}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_alloy_config(catalog: Catalog, service: Service, settings: Settings) -> str:
    # load_inputs refuses a catalog with the log shipper and no Loki (observability_problems).
    loki, spec = receiving(catalog, LOKI_RENDERER)  # observability_problems made sure it exists
    push_url = f"http://{loki}:{spec.port}/loki/api/v1/push"
    relabels = "\n".join(
        f"  rule {{\n    source_labels = [{_quote('__meta_docker_container_label_' + source)}]\n"
        f"    target_label  = {_quote(target)}\n  }}"
        for target, source in LABELS.items()
    )
    lines = [
        "// Rendered by the devtools Pulumi program from config/services.yaml; do not edit on the host.",
        'discovery.docker "containers" {',
        f"  host = {_quote('unix://' + DOCKER_SOCKET)}",
        "}",
        "",
        'discovery.relabel "devtools" {',
        "  targets = discovery.docker.containers.targets",
        "  // Only this platform's containers: they carry the devtools.service label.",
        "  rule {",
        f"    source_labels = [{_quote('__meta_docker_container_label_devtools_service')}]",
        f"    regex         = {_quote('.+')}",
        f"    action        = {_quote('keep')}",
        "  }",
        relabels,
        "}",
        "",
        'loki.source.docker "containers" {',
        f"  host          = {_quote('unix://' + DOCKER_SOCKET)}",
        "  targets       = discovery.relabel.devtools.output",
        "  relabel_rules = discovery.relabel.devtools.rules",
        "  forward_to    = [loki.write.local.receiver]",
        "}",
        "",
        'loki.write "local" {',
        "  endpoint {",
        f"    url = {_quote(push_url)}",
        "  }",
        f"  external_labels = {{ platform = {_quote(settings.domain)} }}",
        "}",
        "",
    ]
    return "\n".join(lines)
