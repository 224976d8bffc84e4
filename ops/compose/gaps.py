"""What each kind of compose gap means for the audit: its scope, priority, impact, fix and effort.

Scopes and priorities follow the seed audit of the platform: P0 must be fixed before a deploy
(data loss, exposed credentials, instability), P1 should be, P2 is worth doing. `passed` is what
the audit reports under "Findings" when no service has the gap.
"""

from __future__ import annotations

from dataclasses import dataclass

SCOPES = (
    "Configuration & Environment",
    "Service Wiring & Dependencies",
    "Docker Compose & Containerization",
    "API Endpoints & Health Checks",
    "Observability & Monitoring",
    "Security & Secrets Management",
    "Documentation & Deployment Guides",
)
PRIORITIES = ("P0", "P1", "P2")


@dataclass(frozen=True)
class GapKind:
    scope: int        # 1..7, an index into SCOPES plus one
    priority: str     # P0 | P1 | P2
    title: str
    impact: str
    fix: str
    effort: str       # Low | Medium | High
    passed: str


def _k(scope: int, priority: str, title: str, impact: str, fix: str, effort: str, passed: str) -> GapKind:
    return GapKind(scope, priority, title, impact, fix, effort, passed)


GAP_KINDS: dict[str, GapKind] = {
    # 1. Configuration & Environment
    "unset-variable": _k(1, "P1", "Variables used but never set", "services start with empty values where settings were meant",
                         "set each variable in .env, or give it a default with ${VAR:-value}", "Low",
                         "every interpolated variable is set or has a default"),
    "placeholder-value": _k(1, "P0", "Stand-in values in the environment", "a placeholder reaches production as the real setting",
                            "write the real value, or make it a secret", "Low", "no stand-in values (changeme, <...>) in the environment"),
    "env-file-shared": _k(1, "P1", "One env_file shared by every service",
                          "every service receives every variable, each other's credentials included",
                          "give each service only the variables it reads; the catalog lists them per service", "Low",
                          "services do not all read one shared env_file"),
    # 2. Service Wiring & Dependencies
    "implicit-dependency": _k(2, "P1", "Dependencies not declared in depends_on",
                              "services start before the datastores they use and fail or retry on boot",
                              "add the datastore to depends_on with condition: service_healthy", "Low",
                              "every datastore a service names is in its depends_on"),
    "depends-option-dropped": _k(2, "P2", "depends_on options the deployment does not carry", "start-up restarts differ from compose",
                                 "rely on health checks and restart policies instead", "Low", "depends_on uses conditions only"),
    "redis-persistence": _k(2, "P0", "Redis persistence not configured", "data loss on restart",
                            "run Redis with appendonly yes, appendfsync everysec and save rules, its data on a volume", "Low",
                            "Redis runs with AOF and RDB snapshots on a volume"),
    "job-restart": _k(2, "P1", "One-shot job restarted forever", "a finished migration or task runs again on every restart",
                      "give one-shot jobs restart: on-failure (or \"no\")", "Low", "one-shot jobs are not restarted after success"),
    "proxy-replaced": _k(2, "P2", "Hand-configured reverse proxy", "routes, TLS and sign-in are kept by hand outside the service list",
                         "let the edge route each service (route: in the catalog)", "Medium", "no hand-kept reverse proxy"),
    # 3. Docker Compose & Containerization
    "limits-missing": _k(3, "P0", "Resource limits missing", "production instability: one service can starve the droplet",
                         "set deploy.resources.limits and reservations (cpus, memory) for every service", "Low",
                         "every service has CPU and memory limits and reservations"),
    "reservations-missing": _k(3, "P2", "Resource reservations missing", "capacity cannot be planned: nothing is guaranteed to a service",
                               "set deploy.resources.reservations (cpus, memory)", "Low", "every service states its reservations"),
    "overcommit": _k(3, "P0", "Limits overcommit the droplet", "under load services starve each other, and past its memory "
                     "the kernel OOM-kills them", "lower the limits or pick a larger --droplet-size", "Medium",
                     "CPU and memory limits fit the droplet"),
    "restart-missing": _k(3, "P1", "No restart policy", "a crashed service stays down until someone notices",
                          "set restart: unless-stopped", "Low", "every service has a restart policy"),
    "moving-tag": _k(3, "P1", "Images on moving tags", "a redeploy silently runs another version; rollbacks are guesswork",
                     "pin a released version tag or a digest", "Low", "every image is pinned"),
    "read-only-dropped": _k(3, "P2", "Read-only root with files to deliver", "Docker cannot upload secret files into the container",
                            "drop read_only, or deliver no files", "Low", "read-only roots receive no files"),
    "tmpfs": _k(3, "P2", "tmpfs mounts", "the deployment has no tmpfs; the path is on the container's own layer",
                "write scratch files under a volume, or accept the container layer", "Low", "no tmpfs mounts"),
    "replicas": _k(3, "P2", "Replicas on one host", "one droplet runs one container per service", "scale the droplet, not replicas",
                   "Low", "one container per service"),
    "restart-retries": _k(3, "P2", "Restart retry counts", "the retry count is not carried", "rely on restart: on-failure", "Low",
                          "restart policies without retry counts"),
    "extra-ports": _k(3, "P2", "Several ports per service", "only the first is the service's port", "publish one port per service",
                      "Low", "one port per service"),
    # 4. API Endpoints & Health Checks
    "healthcheck-missing": _k(4, "P1", "Health checks missing", "a hung service is never restarted, and dependants start against it",
                              "add a healthcheck (an HTTP /health, or a command)", "Low", "every long-running service has a health check"),
    "readiness-missing": _k(4, "P1", "No readiness checks", "premature traffic routing", "serve a readiness path such as /ready",
                            "Low", "routed services have a readiness path"),
    "published-port": _k(4, "P1", "Services exposed directly on host ports",
                         "each port bypasses TLS, single sign-on and rate limits", "route them through the edge", "Low",
                         "only the edge publishes ports"),
    # 5. Observability & Monitoring
    "no-observability": _k(5, "P1", "No metrics or alerting", "failures are found by users", "add Prometheus and Alertmanager (or import "
                           "the platform's observability services)", "Medium", "metrics and alerting run beside the services"),
    "log-rotation": _k(5, "P2", "No log rotation", "logs fill the disk", "set logging options max-size and max-file", "Low",
                       "every service rotates its logs"),
    # 6. Security & Secrets Management
    "secret-in-env": _k(6, "P0", "Secrets in plain environment values",
                        "anyone who can inspect a container or read the compose file reads the credential",
                        "declare a secret and read it from /run/secrets/<name> (a *_FILE variable)", "Low",
                        "no credential in a plain environment value"),
    "secret-in-command": _k(6, "P0", "Secrets on command lines",
                            "anyone who can inspect a container, list its processes or read the compose file reads the credential",
                            "read it from /run/secrets/<name>, not from an argument", "Low",
                            "no credential on a command line"),
    "datastore-port": _k(6, "P0", "Datastore ports published on the host", "databases reachable from the internet",
                         "publish nothing; reach datastores by name, from outside over an SSH tunnel", "Low", "datastores publish no port"),
    "docker-socket": _k(6, "P0", "Docker socket mounted", "root on the host for anyone who controls that container",
                        "remove the mount, or allow one monitoring agent read-only", "Low", "no container mounts the Docker socket"),
    "sensitive-host-mount": _k(6, "P0", "Host system directories mounted", "a container reads or changes the host's system files",
                               "bake what it needs into the image, or use a volume", "Low", "no host system directory is mounted"),
    "writable-host-mount": _k(6, "P1", "Writable host mounts", "a container writes the host's files", "mount host paths :ro", "Low",
                              "host paths are mounted read-only"),
    "privileged": _k(6, "P0", "Privileged containers", "root on the host", "drop privileged; add only the capabilities it needs",
                     "Low", "no privileged container"),
    "host-namespace": _k(6, "P0", "Host namespaces shared", "the container sees the host's network or processes",
                         "join user-defined networks only", "Low", "no container shares the host's namespaces"),
    "host-devices": _k(6, "P1", "Host devices passed through", "a container talks to the host's hardware", "remove devices:", "Low",
                       "no host devices passed through"),
    "flat-network": _k(6, "P1", "One flat network", "a compromised service reaches every datastore",
                       "segment: datastores on an internal network joined only by their users", "Low",
                       "networks are segmented"),
    "secret-target": _k(6, "P2", "Secrets mounted at custom paths", "the deployment mounts them at /run/secrets/<name>",
                        "read secrets from /run/secrets/<name>", "Low", "secrets at their standard paths"),
    # 7. Documentation & Deployment Guides
    "build": _k(7, "P2", "Images built on the deploy host", "what runs is whatever was built there last: no artifact to roll back to",
                "build and push versioned images in CI; deploy the pushed tag", "Medium", "every service runs a pushed image"),
    "config-file": _k(7, "P1", "Config files mounted from the checkout", "the deploy depends on files outside the service list",
                      "bake them into the image, or render them from the catalog", "Medium", "no config file mounted from the checkout"),
    "bind-mount": _k(7, "P2", "Data in bind-mounted directories", "data lives in the checkout, outside volumes and backups",
                     "use named volumes", "Low", "data lives on named volumes"),
    "external-volume": _k(7, "P2", "External volumes", "the data must be moved by hand", "copy the data onto the new volume", "Low",
                          "no external volumes"),
    "catalog-validation": _k(3, "P1", "Refused by the catalog validation", "the import cannot be previewed or deployed until fixed",
                             "apply the follow-ups `python -m ops import-compose` prints", "Low", "the imported catalog validates"),
}
