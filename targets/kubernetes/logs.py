"""config.alloy for the cluster: the catalog renderer's Loki pipeline, reading pod logs from the node.

DOKS nodes run containerd, not Docker, so the renderer's Docker discovery is replaced: Alloy runs on
every node (a DaemonSet), discovers this namespace's pods on its own node through the API, and tails
their files under /var/log/pods. The labels keep the renderer's names (`service`, `role`), so Loki
queries and dashboards read the same on both targets. The `loki.write` block is the renderer's own.
"""

from __future__ import annotations

from targets.kubernetes.manifests import NAME_LABEL, ROLE_LABEL, discovery_label

LOG_DIRECTORY = "/var/log/pods"
ALLOY_RENDERER = "alloy_config"
HEADER = "// Rendered by the devtools Pulumi program from config/services.yaml for Kubernetes; do not edit in the cluster."


def kubernetes_alloy_config(rendered: str, namespace: str) -> str:
    write = rendered[rendered.index('loki.write "local"'):]
    lines = [
        HEADER,
        'discovery.kubernetes "pods" {',
        '  role = "pod"',
        f'  namespaces {{\n    names = ["{namespace}"]\n  }}',
        "  // Only the pods on this node: each node's Alloy tails its own files.",
        '  selectors {\n    role  = "pod"\n    field = "spec.nodeName=" + sys.env("NODE_NAME")\n  }',
        "}",
        "",
        'discovery.relabel "devtools" {',
        "  targets = discovery.kubernetes.pods.targets",
        f'  rule {{\n    source_labels = ["{discovery_label(NAME_LABEL)}"]\n    regex         = ".+"\n    action        = "keep"\n  }}',
        f'  rule {{\n    source_labels = ["{discovery_label(NAME_LABEL)}"]\n    target_label  = "service"\n  }}',
        f'  rule {{\n    source_labels = ["{discovery_label(ROLE_LABEL)}"]\n    target_label  = "role"\n  }}',
        '  rule {\n    source_labels = ["__meta_kubernetes_namespace", "__meta_kubernetes_pod_name", '
        '"__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"]\n'
        '    separator     = "/"\n    regex         = "(.+)/(.+)/(.+)/(.+)"\n'
        f'    replacement   = "{LOG_DIRECTORY}/$1_$2_$3/$4/*.log"\n    target_label  = "__path__"\n  }}',
        "}",
        "",
        'local.file_match "pods" {\n  path_targets = discovery.relabel.devtools.output\n}',
        "",
        'loki.source.file "pods" {\n  targets    = local.file_match.pods.targets\n  forward_to = [loki.write.local.receiver]\n}',
        "",
        write,
    ]
    return "\n".join(lines)
