"""Every rule of the pack with its name, description (what to do about it), severity, default
enforcement, tunable settings (JSON schema with defaults) and the audit / CIS / KICS items it covers.

Kept free of the policy SDK so tests, docs and the offline preview can read it directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import container_rules as c
from . import host_rules as h
from . import kubernetes_rules as k
from . import monitoring_rules as m
from . import stack_rules as s

MANDATORY, ADVISORY = "mandatory", "advisory"
DATABASE_PORTS = [5432, 6379, 3306, 27017, 9200, 11211, 5984, 9042]

_SERVICES = {"type": "array", "items": {"type": "string"}}
_PORTS = {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 65535}}


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    severity: str                       # low | medium | high | critical
    enforcement: str                    # default; policy config can change it
    check: Callable[..., Any]
    stack: bool = False                 # a stack rule sees every resource at once
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # JSON schema, each with a default
    covers: tuple[str, ...] = ()        # audit gaps, CIS Docker Benchmark v1.6 and KICS items

    def config(self, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The rule's settings: defaults, overridden by what policy config gives."""
        merged = {key: schema["default"] for key, schema in self.settings.items()}
        merged.update({k: v for k, v in (given or {}).items() if k != "enforcementLevel"})
        return merged


RULES: tuple[Rule, ...] = (
    Rule("container-memory-limit",
         "Every container needs a memory limit and a reservation no larger than it: set deploy.resources.limits.memory "
         "and reservations.memory for the service in config/services.yaml.",
         "high", MANDATORY, c.memory_limit, covers=("audit: resource limits missing (P0)", "CIS 5.11", "KICS memory_not_limited")),
    Rule("container-cpu-limit",
         "Every container needs a CPU limit: set deploy.resources.limits.cpus for the service in config/services.yaml.",
         "high", MANDATORY, c.cpu_limit, covers=("audit: resource limits missing (P0)", "CIS 5.12", "KICS cpus_not_limited")),
    Rule("redis-persistence",
         "Redis must survive a restart with its data: appendonly yes, appendfsync everysec (or always), at least one "
         "`save` rule, and `dir` on a persistent volume, whether set in the uploaded redis.conf or on the command line "
         "(see render/redis_conf.py).",
         "critical", MANDATORY, c.redis_persistence, covers=("audit: Redis persistence not configured (P0)",)),
    Rule("no-hardcoded-credentials",
         "No fallback or stand-in credential in a container's environment, command line or uploaded files "
         "(changeme, password, <...>, your-..., ${VAR:-default}), and no literal credential in an uploaded config "
         "file: declare a secret in config/services.yaml and read it from /run/secrets/<name>.",
         "critical", MANDATORY, c.no_hardcoded_credentials, covers=("audit: hardcoded fallback passwords (P0)",)),
    Rule("secrets-as-files",
         "Credentials reach a container as files under /run/secrets, never as environment values or command-line "
         "arguments (both show in `docker inspect` and process lists): list the secret under the service's "
         "`secrets:` and let the program set <NAME>_FILE (which must name a file the container receives).",
         "high", MANDATORY, c.secrets_as_files, covers=("audit: secrets management", "design: secrets as files")),
    Rule("restart-policy",
         "A long-running container restarts by itself after a crash or reboot: use restart unless-stopped (the default), "
         "always, or on-failure with a retry count; a one-shot job (role job) uses no or on-failure.",
         "medium", MANDATORY, c.restart_policy, covers=("audit: no restart policies on some services", "CIS 5.15 (on-failure:5: see docs)",
                                                        "KICS restart_policy_on_failure_not_set_to_5")),
    Rule("container-healthcheck",
         "Every long-running container needs a health check (healthcheck: {path: /health} or a test command); "
         "only role job is exempt.",
         "medium", MANDATORY, c.healthcheck, covers=("audit: health checks", "CIS 5.27", "KICS healthcheck_not_set")),
    Rule("image-pinned",
         "Pin every image to a released version tag or a digest, never `latest` or no tag: the same preview must "
         "deploy the same software.",
         "medium", MANDATORY, c.image_pinned, covers=("CIS 5.28 (partly)", "audit: image versioning")),
    Rule("no-published-ports",
         "Only the edge proxy publishes host ports (80 and 443), and no container ever publishes a database port: "
         "remove `ports:` from the service and route through the edge instead.",
         "high", MANDATORY, c.published_ports,
         settings={"allowedPorts": {"type": "object", "additionalProperties": _PORTS, "default": {"edge": [80, 443]},
                                    "description": "service name -> host ports it may publish"},
                   "databasePorts": {**_PORTS, "default": DATABASE_PORTS, "description": "ports never published"}},
         covers=("audit: all services exposed directly", "CIS 5.8", "CIS 5.9", "CIS 5.14",
                 "KICS privileged_ports_mapped_in_container", "KICS container_traffic_not_bound_to_host_interface")),
    Rule("no-privileged-containers",
         "No container runs privileged: add only the capabilities it needs (cap_add) instead.",
         "critical", MANDATORY, c.no_privileged,
         settings={"allowedServices": {**_SERVICES, "default": [], "description": "services allowed to run privileged"}},
         covers=("CIS 5.5", "KICS privileged_containers_enabled")),
    Rule("docker-socket-mount",
         "Only an allow-listed monitoring agent may mount the Docker socket, and only read-only: the socket is root on "
         "the host. Remove the mount, or add the service to this policy's allowedServices with a reason.",
         "critical", MANDATORY, c.docker_socket,
         settings={"allowedServices": {**_SERVICES, "default": ["alloy", "cadvisor"],
                                       "description": "services that may mount the socket read-only"}},
         covers=("CIS 5.32", "KICS docker_socket_mounted_in_container")),
    Rule("no-new-privileges",
         "Set security_opts no-new-privileges:true so setuid binaries cannot raise privileges (the program's "
         "ServiceContainer does this for every service).",
         "high", MANDATORY, c.no_new_privileges, covers=("CIS 5.26", "KICS no_new_privileges_not_set", "KICS security_opt_not_set")),
    Rule("capabilities-dropped",
         "Drop ALL capabilities and add back only what the service needs (cap_add), never host-level ones such as "
         "SYS_ADMIN or NET_ADMIN.",
         "high", MANDATORY, c.capabilities_dropped,
         covers=("CIS 5.4", "KICS container_capabilities_unrestricted", "KICS check_cap_add_cap_drop")),
    Rule("log-rotation",
         "Container logs must rotate: json-file with max-size and max-file (stack settings logMaxSize and "
         "logMaxFiles), or a driver that rotates or ships them.",
         "medium", MANDATORY, c.log_rotation, covers=("audit: log aggregation (disk safety)",)),
    Rule("no-host-namespaces",
         "Do not share the host's (or another container's) network, PID, IPC, user or cgroup namespace: remove "
         "network_mode/pid/ipc/userns_mode host.",
         "critical", MANDATORY, c.host_namespaces,
         covers=("CIS 5.10", "CIS 5.16", "CIS 5.17", "CIS 5.31", "KICS host_namespace_is_shared",
                 "KICS shared_host_network_namespace", "KICS network_mode_host_exists", "KICS shared_host_ipc_namespace",
                 "KICS ipc_set_to_host", "KICS shared_host_user_namespace", "KICS userns_set_to_host")),
    Rule("no-sensitive-host-mounts",
         "Never mount system directories of the host (/, /etc, /proc, /sys, /var/lib/docker, ...) writable; read-only "
         "only for the monitoring agents listed in readOnlyAllowedServices. Keep data under the data volume.",
         "critical", MANDATORY, c.sensitive_host_mounts,
         settings={"readOnlyAllowedServices": {**_SERVICES, "default": ["alloy", "cadvisor", "node-exporter"],
                                               "description": "services that may mount system directories read-only"}},
         covers=("CIS 5.6", "KICS volume_has_sensitive_host_directory")),
    Rule("no-host-devices",
         "Do not pass host devices into containers; add the service to allowedServices only with a reason.",
         "high", MANDATORY, c.host_devices,
         settings={"allowedServices": {**_SERVICES, "default": ["cadvisor"],
                                       "description": "services that may see host devices (cAdvisor reads /dev/kmsg)"}},
         covers=("CIS 5.18",)),
    Rule("mount-propagation-private",
         "Bind mounts must not use shared or rshared propagation: leave propagation at its private default.",
         "medium", MANDATORY, c.mount_propagation, covers=("CIS 5.20",)),
    Rule("security-profiles-confined",
         "Keep Docker's default seccomp and AppArmor profiles and SELinux labels: remove seccomp=unconfined, "
         "apparmor=unconfined and label=disable from security_opts.",
         "high", MANDATORY, c.security_profiles,
         covers=("CIS 5.2", "CIS 5.3", "CIS 5.22", "KICS default_seccomp_profile_disabled", "KICS seccomp_disabled")),
    Rule("user-defined-network",
         "Every container joins the catalog's named networks (networks: in config/services.yaml), never Docker's "
         "default bridge.",
         "medium", MANDATORY, c.user_defined_network, covers=("CIS 5.30", "KICS networks_not_set")),
    Rule("default-cgroup",
         "Leave containers in Docker's own cgroup: remove cgroup_parent.",
         "low", MANDATORY, c.default_cgroup, covers=("CIS 5.25", "KICS cgroup_not_default")),
    Rule("uploads-need-writable-root",
         "A container that receives files (configs, secrets) cannot have a read-only root filesystem: Docker "
         "refuses to upload into it and the deploy fails. Drop read_only: true from the service, or give it no files.",
         "high", MANDATORY, c.uploads_need_writable_root),
    Rule("read-only-root-filesystem",
         "Prefer a read-only root filesystem (read_only: true in the catalog) with the writable paths on volumes.",
         "low", ADVISORY, c.read_only_root, covers=("CIS 5.13",)),
    Rule("droplet-backups-monitoring",
         "The droplet keeps weekly backups and the monitoring agent on (backups=True, monitoring=True in "
         "targets/droplet/host.py).",
         "high", MANDATORY, h.droplet_backups_monitoring, covers=("audit: no disaster recovery plan",)),
    Rule("firewall-no-public-admin-ports",
         "The firewall never opens SSH or a database port to 0.0.0.0/0 or ::/0: list the admins' addresses in "
         "devtools:adminCidrs, and reach databases through SSH.",
         "critical", MANDATORY, h.firewall_admin_ports,
         settings={"databasePorts": {**_PORTS, "default": DATABASE_PORTS, "description": "ports never open to the internet"}},
         covers=("audit: no network policies",)),
    Rule("stack-settings-not-placeholders",
         "Stack settings that reach the cloud (droplet, firewall, SSH keys, tags, ...) hold real values, not "
         "stand-ins: `pulumi config set devtools:<key> <real value>`.",
         "high", MANDATORY, h.stack_settings_placeholders, covers=("audit: environment validation script (P0)",)),
    Rule("memory-capacity",
         "Container memory reservations must fit the droplet's memory minus the host reserve, and limits must not "
         "overcommit it beyond the allowed factor: lower the services' memory or pick a larger devtools:dropletSize.",
         "high", MANDATORY, s.memory_capacity, stack=True,
         settings={"hostReserveMiB": {"type": "number", "minimum": 0, "default": 1536,
                                      "description": "memory kept for the OS, Docker and the agents (MiB)"},
                   "limitOvercommitFactor": {"type": "number", "minimum": 1, "default": 1.5,
                                             "description": "sum of limits / allocatable memory, at most"}},
         covers=("audit: resource limits missing (P0)", "audit: missing capacity planning guide")),
    Rule("cpu-capacity",
         "Container CPU reservations must fit the droplet's vCPUs, and limits must not overcommit them beyond the "
         "allowed factor: lower the services' cpus or pick a larger devtools:dropletSize.",
         "medium", MANDATORY, s.cpu_capacity, stack=True,
         settings={"hostReserveCpus": {"type": "number", "minimum": 0, "default": 0,
                                       "description": "vCPUs kept for the host"},
                   "limitOvercommitFactor": {"type": "number", "minimum": 1, "default": 2.0,
                                             "description": "sum of CPU limits / vCPUs, at most"}},
         covers=("audit: resource limits missing (P0)", "audit: missing capacity planning guide")),
    Rule("network-segmentation",
         "Nothing on the data network is reachable from the edge network: no datastore joins the edge network, the "
         "edge proxy does not join the data network, and the data network is internal. Fix the services' networks: "
         "in config/services.yaml.",
         "critical", MANDATORY, s.network_segmentation, stack=True,
         settings={"edgeNetwork": {"type": "string", "default": "edge"},
                   "dataNetwork": {"type": "string", "default": "data"}},
         covers=("audit: no network policies",)),
    Rule("volumes-not-shared",
         "A host directory that a container writes to belongs to that container alone: give each service its own "
         "volume, or mount the other's read-only.",
         "low", ADVISORY, s.volumes_not_shared, stack=True,
         settings={"allowedServices": {**_SERVICES, "default": [], "description": "services allowed to share"}},
         covers=("KICS shared_volumes_between_containers", "KICS volume_mounted_in_multiple_containers")),
    Rule("no-dead-alert",
         "Every alert and recording rule Prometheus loads must watch something it scrapes: each `job` it names is a "
         "scrape job, each metric is produced by one (policies/devtools_policy/metric_sources.py), and each rule file "
         "in prometheus.yml is uploaded. Declare `metrics:` for the service that yields the metric in "
         "config/services.yaml, or fix the rule in render/observability/alert_rules.py.",
         "high", MANDATORY, m.no_dead_alert, stack=True, covers=("audit: missing alert rules (rules that watch nothing)",)),
    Rule("scrape-target-reachable",
         "Every scrape target is a container that shares a network with the Prometheus scraping it (a target it "
         "cannot reach is always down): put the service or prometheus on a common network (e.g. observability) "
         "in config/services.yaml.",
         "medium", ADVISORY, m.scrape_target_reachable, stack=True),
    # --- Kubernetes objects and managed databases (the DOKS target) ---
    Rule("k8s-requests-and-limits",
         "Every container of a Kubernetes workload requests CPU and memory and is limited, request no larger than "
         "limit: set deploy.resources.reservations and limits for the service in config/services.yaml.",
         "high", MANDATORY, k.requests_and_limits, covers=("audit: resource limits missing (P0)", "checkov CKV_K8S_10-13")),
    Rule("k8s-probes",
         "Every long-running container has a liveness and a readiness probe: give the service healthcheck: and "
         "readiness: in config/services.yaml.",
         "medium", MANDATORY, k.probes, covers=("audit: health checks", "checkov CKV_K8S_8", "checkov CKV_K8S_9")),
    Rule("k8s-secrets-as-files",
         "Secrets reach a pod as mounted files under /run/secrets, never through env (secretKeyRef, envFrom or a "
         "literal credential): list the secret under the service's secrets: in config/services.yaml.",
         "high", MANDATORY, k.secrets_as_files, covers=("design: secrets as files", "checkov CKV_K8S_35")),
    Rule("k8s-no-privilege",
         "No pod shares the host's network, PID or IPC namespace, and no container runs privileged, may escalate "
         "privileges or keeps capabilities it did not add back (drop ALL).",
         "critical", MANDATORY, k.no_privilege,
         covers=("checkov CKV_K8S_16", "checkov CKV_K8S_17", "checkov CKV_K8S_18", "checkov CKV_K8S_19",
                 "checkov CKV_K8S_20", "checkov CKV_K8S_28")),
    Rule("k8s-image-pinned",
         "Pin every pod's image to a released version tag or a digest, never `latest` or no tag.",
         "medium", MANDATORY, k.image_pinned, covers=("audit: image versioning",)),
    Rule("k8s-network-policy-coverage",
         "Every workload's pods are selected by a NetworkPolicy of their namespace that restricts both ingress and "
         "egress (the target declares a default-deny policy per namespace).",
         "high", MANDATORY, k.network_policy_coverage, stack=True, covers=("audit: no network policies", "checkov CKV2_K8S_6")),
    Rule("k8s-disruption-budget",
         "A Deployment or StatefulSet with more than one replica (or an autoscaler whose minimum is above one) has a "
         "PodDisruptionBudget selecting its pods, so node drains and upgrades keep it serving.",
         "medium", MANDATORY, k.disruption_budget, stack=True),
    Rule("managed-database-private",
         "A managed database sits on the stack's VPC (private_network_uuid) and has a DatabaseFirewall admitting only "
         "the cluster (rule type k8s), droplets, tags or apps, never addresses.",
         "critical", MANDATORY, k.managed_database_private, stack=True, covers=("audit: databases reachable from outside",)),
)

BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}
