"""Every rule as a plain function: it fires on one input and stays quiet on another, tricky cases included."""

from __future__ import annotations

import copy

import pytest
from policy_helpers import CONTAINER, DROPLET, FIREWALL, check, check_stack, rule_form, set_label, stack_form

from policies.devtools_policy.registry import RULES
from render.backup_conf import BACKUP_SCRIPT


@pytest.fixture(scope="module")
def shipped(shipped_plan):
    return {
        "containers": {name: rule_form(r.inputs) for name, r in shipped_plan.containers().items()},
        "droplet": rule_form(shipped_plan.one(DROPLET).inputs),
        "firewall": rule_form(shipped_plan.one(FIREWALL).inputs),
        "provider": rule_form(shipped_plan.one("pulumi:providers:docker").inputs),
        "stack": stack_form(shipped_plan),
    }


def container(shipped, name="orchestrator"):
    return copy.deepcopy(shipped["containers"][name])


def test_no_mandatory_rule_fires_on_the_shipped_stack(shipped):
    """Advisory findings on the shipped stack are checked against docs/policies.md (test_policies_docs)."""
    for rule in RULES:
        if rule.enforcement != "mandatory":
            continue
        if rule.stack:
            assert check_stack(rule.name, shipped["stack"]) == [], rule.name
            continue
        for name, props in shipped["containers"].items():
            assert check(rule.name, CONTAINER, props) == [], (rule.name, name)
        for kind, typ in (("droplet", DROPLET), ("firewall", FIREWALL), ("provider", "pulumi:providers:docker")):
            assert check(rule.name, typ, shipped[kind]) == [], (rule.name, kind)


# --- limits ---

def test_memory_limit(shipped):
    props = container(shipped)
    del props["memory"]
    assert check("container-memory-limit", CONTAINER, props) == ["no memory limit (memory)"]
    props = container(shipped)
    props["memoryReservation"] = props["memory"] * 2
    assert "exceeds the limit" in check("container-memory-limit", CONTAINER, props)[0]
    assert check("container-memory-limit", CONTAINER, container(shipped)) == []


def test_memory_limit_ignores_other_resource_types(shipped):
    assert check("container-memory-limit", DROPLET, shipped["droplet"]) == []


def test_cpu_limit(shipped):
    props = container(shipped)
    props.pop("cpus")
    assert check("container-cpu-limit", CONTAINER, props) == ["no CPU limit (cpus)"]
    props["cpuQuota"] = 50000  # a quota limits CPU as well
    assert check("container-cpu-limit", CONTAINER, props) == []
    props = container(shipped)
    props["cpus"] = "0"
    assert check("container-cpu-limit", CONTAINER, props)


# --- Redis persistence ---

def _redis_conf(props):
    return next(u for u in props["uploads"] if u["file"].endswith("redis.conf"))


def test_redis_persistence_reads_the_uploaded_redis_conf(shipped):
    props = container(shipped, "redis")
    assert props["command"] == ["redis-server", "/usr/local/etc/redis/redis.conf"]
    assert "appendonly yes" in _redis_conf(props)["content"]  # the shipped stack configures it only in the file
    assert check("redis-persistence", CONTAINER, props) == []


@pytest.mark.parametrize("line, expected", [
    ("appendonly yes", "AOF is off (appendonly no)"),
    ("appendfsync everysec", "appendfsync no"),
])
def test_redis_persistence_fires_when_the_file_turns_it_off(shipped, line, expected):
    props = container(shipped, "redis")
    upload = _redis_conf(props)
    upload["content"] = upload["content"].replace(line, line.rsplit(" ", 1)[0] + " no")
    assert any(expected in m for m in check("redis-persistence", CONTAINER, props))


def test_redis_persistence_needs_save_rules(shipped):
    props = container(shipped, "redis")
    upload = _redis_conf(props)
    upload["content"] = "\n".join(line for line in upload["content"].splitlines() if not line.startswith("save "))
    assert check("redis-persistence", CONTAINER, props) == ["no RDB snapshot rules (save ...)"]
    props["command"] = props["command"] + ["--save", "900 1"]
    assert check("redis-persistence", CONTAINER, props) == []


def test_redis_command_line_overrides_the_file(shipped):
    props = container(shipped, "redis")
    props["command"] = props["command"] + ["--appendonly", "no"]
    assert check("redis-persistence", CONTAINER, props) == ["AOF is off (appendonly no)"]
    props["command"] = props["command"] + ["--save", ""]
    assert "no RDB snapshot rules (save ...)" in check("redis-persistence", CONTAINER, props)


def test_redis_on_the_command_line_alone(shipped):
    props = container(shipped, "redis")
    props["uploads"] = [u for u in props["uploads"] if not u["file"].endswith("redis.conf")]
    props["command"] = ["redis-server", "--appendonly", "yes", "--appendfsync", "always", "--save", "60 1000"]
    assert check("redis-persistence", CONTAINER, props) == []
    props["command"] = ["redis-server"]  # defaults: AOF off, no explicit snapshot rules
    assert check("redis-persistence", CONTAINER, props) == ["AOF is off (appendonly no)", "no RDB snapshot rules (save ...)"]


def test_redis_data_must_be_on_a_volume(shipped):
    props = container(shipped, "redis")
    props["volumes"] = []
    assert check("redis-persistence", CONTAINER, props) == ["data directory /data is not on a persistent volume"]


def test_redis_config_file_that_is_not_uploaded_cannot_be_trusted(shipped):
    props = container(shipped, "redis")
    props["command"] = ["redis-server", "/etc/redis/other.conf"]
    assert "config file /etc/redis/other.conf is not uploaded" in check("redis-persistence", CONTAINER, props)[0]


def test_redis_persistence_ignores_other_containers(shipped):
    assert check("redis-persistence", CONTAINER, container(shipped, "postgres")) == []
    backup = container(shipped, "redis")  # a Redis image running the client, e.g. a backup job
    backup["command"], backup["volumes"] = ["sh", "-c", "redis-cli -h redis --rdb /backup/dump.rdb"], []
    assert check("redis-persistence", CONTAINER, backup) == []
    backup["command"] = []  # the image's default command is the server
    assert check("redis-persistence", CONTAINER, backup)


# --- credentials ---

def test_hardcoded_credentials_fire_on_a_placeholder_env_value(shipped):
    props = container(shipped)
    props["envs"].append("DB_HOST=changeme")
    assert check("no-hardcoded-credentials", CONTAINER, props) == ["environment DB_HOST: value is the stand-in value 'changeme'"]


def test_hardcoded_credentials_fire_on_a_fallback_in_env(shipped):
    props = container(shipped)
    props["envs"].append("DATABASE_URL=postgres://devtools:${DB_PASSWORD:-hunter2}@postgres/devtools")
    found = check("no-hardcoded-credentials", CONTAINER, props)
    assert len(found) == 1 and "falls back to a literal password when $DB_PASSWORD is unset" in found[0]


def test_placeholder_hidden_in_a_command_line_fires(shipped):
    props = container(shipped, "redis")
    props["command"] = ["sh", "-c", "exec redis-server /usr/local/etc/redis/redis.conf --requirepass changeme"]
    found = check("no-hardcoded-credentials", CONTAINER, props)
    assert found and all("command line" in m for m in found)
    props["command"] = ["redis-server", "--requirepass", "password"]  # a weak word in a credential position
    assert check("no-hardcoded-credentials", CONTAINER, props) == ["command line: --requirepass value is the stand-in value 'password'"]


def test_weak_words_elsewhere_in_a_command_are_not_credentials(shipped):
    props = container(shipped, "postgres")
    props["command"] = ["postgres", "-c", "log_statement=none", "-c", "default_transaction_isolation=read committed"]
    props["healthcheck"]["tests"] = ["CMD", "test", "-f", "/var/run/postgresql/ready"]
    assert check("no-hardcoded-credentials", CONTAINER, props) == []


def test_a_pulumi_secret_in_a_secret_file_does_not_fire(shipped, shipped_plan):
    # The generated password reaches postgres as a Pulumi secret in an upload under /run/secrets.
    raw = shipped_plan.containers()["postgres"].inputs["uploads"]
    assert "1b47061264138c4ac30d75fd1eb44270" in str(raw)  # secret-wrapped in the recorded inputs
    props = container(shipped, "postgres")
    assert any(u["file"] == "/run/secrets/db_password" for u in props["uploads"])
    assert check("no-hardcoded-credentials", CONTAINER, props) == []
    assert check("secrets-as-files", CONTAINER, props) == []


def test_a_placeholder_in_a_secret_file_fires(shipped):
    props = container(shipped, "postgres")
    next(u for u in props["uploads"] if u["file"] == "/run/secrets/db_password")["content"] = "changeme"
    assert check("no-hardcoded-credentials", CONTAINER, props) == [
        "secret file /run/secrets/db_password: content is the stand-in value 'changeme'"]


def test_a_literal_credential_in_an_uploaded_config_file_fires(shipped):
    props = container(shipped, "redis")
    _redis_conf(props)["content"] += "requirepass s3cr3t-but-in-the-config\nuser app on >inline-pw ~* +@all\n"
    found = check("no-hardcoded-credentials", CONTAINER, props)
    assert any("requirepass holds a literal credential" in m for m in found)
    assert any("ACL user has an inline password" in m for m in found)


def test_config_file_references_to_secret_files_are_fine(shipped):
    props = container(shipped, "redis")
    _redis_conf(props)["content"] += "aclfile /run/secrets/redis_acl\n"
    props["uploads"].append({"file": "/etc/app/app.yaml", "content": "password_file: /run/secrets/x\npassword: ${APP_PASSWORD}\n"})
    assert check("no-hardcoded-credentials", CONTAINER, props) == []


def test_secrets_as_files(shipped):
    props = container(shipped)
    props["envs"].append("POSTGRES_PASSWORD=hunter2")
    assert check("secrets-as-files", CONTAINER, props) == ["environment POSTGRES_PASSWORD holds a credential"]
    props = container(shipped)
    props["envs"] += ["CACHE_URL=redis://:Zx81kdq0@redis:6379/0", "DATA_URL=postgres://app:${DB_PASSWORD}@db/app",
                      "PLAIN_URL=http://user@host:8080/"]
    assert check("secrets-as-files", CONTAINER, props) == ["environment CACHE_URL holds a credential"]
    props = container(shipped, "redis")
    props["command"] = ["redis-server", "--requirepass", "Zx81kdq0"]
    assert check("secrets-as-files", CONTAINER, props) == ["command line passes --requirepass a credential"]
    props["command"] = ["sh", "-c", 'redis-server --requirepass "$(cat /run/secrets/redis_password)"']
    assert check("secrets-as-files", CONTAINER, props) == []
    assert check("secrets-as-files", CONTAINER, container(shipped)) == []  # *_FILE variables only


def test_secret_file_variables_must_point_at_a_delivered_file(shipped):
    props = container(shipped)
    props["uploads"] = [u for u in props["uploads"] if u["file"] != "/run/secrets/db_password"]
    assert check("secrets-as-files", CONTAINER, props) == [
        "environment POSTGRES_PASSWORD_FILE points at /run/secrets/db_password, which the container does not receive"]
    props["volumes"].append({"hostPath": "/mnt/devtools-data/secrets", "containerPath": "/run/secrets", "readOnly": True})
    assert check("secrets-as-files", CONTAINER, props) == []


# --- restart, health, image ---

def test_restart_policy(shipped):
    props = container(shipped)
    props["restart"] = "no"
    assert "restart policy is 'no'" in check("restart-policy", CONTAINER, props)[0]
    props["restart"] = "on-failure"
    props.pop("maxRetryCount", None)
    assert check("restart-policy", CONTAINER, props) == ["restart on-failure without a retry count (maxRetryCount)"]
    props["maxRetryCount"] = 5
    assert check("restart-policy", CONTAINER, props) == []


def test_restart_policy_for_jobs(shipped):
    props = set_label(container(shipped), "devtools.role", "job")
    props["restart"] = "no"
    assert check("restart-policy", CONTAINER, props) == []
    props["restart"] = "unless-stopped"
    assert check("restart-policy", CONTAINER, props)


def test_healthcheck(shipped):
    props = container(shipped)
    props.pop("healthcheck")
    assert check("container-healthcheck", CONTAINER, props) == ["a long-running container has no health check"]
    props["healthcheck"] = {"tests": ["NONE"]}
    assert check("container-healthcheck", CONTAINER, props)
    assert check("container-healthcheck", CONTAINER, set_label(props, "devtools.role", "job")) == []


@pytest.mark.parametrize("image, fires", [
    ("redis:latest", True), ("redis", True), ("ghcr.io/a/b:latest", True),
    ("redis:7.4.1", False), ("redis@sha256:" + "a" * 64, False), ("registry:5000/team/app:1.2", False),
])
def test_image_pinned(shipped, image, fires):
    props = container(shipped)
    props["image"] = image
    assert bool(check("image-pinned", CONTAINER, props)) is fires


# --- exposure ---

def test_published_ports(shipped):
    props = container(shipped, "postgres")
    props["ports"] = [{"internal": 5432, "external": 5432, "ip": "0.0.0.0"}]
    assert check("no-published-ports", CONTAINER, props) == ["publishes database port 5432 on the host as 5432"]
    props = container(shipped, "gateway-mcp")
    props["ports"] = [{"internal": 8000, "external": 8000}]
    assert "host ports allowed: edge 80, 443" in check("no-published-ports", CONTAINER, props)[0]
    edge = set_label(container(shipped, "gateway-mcp"), "devtools.service", "edge")
    edge["ports"] = [{"internal": 80, "external": 80}, {"internal": 443, "external": 443}]
    assert check("no-published-ports", CONTAINER, edge) == []
    edge["ports"].append({"internal": 80})  # a random host port is a published port too
    assert check("no-published-ports", CONTAINER, edge) == [
        "publishes port 80 on the host as a random port; host ports allowed: edge 80, 443"]
    edge["ports"].pop()
    edge["ports"].append({"internal": 6379, "external": 16379})
    assert check("no-published-ports", CONTAINER, edge) == ["publishes database port 6379 on the host as 16379"]


def test_published_ports_allow_list_comes_from_policy_config(shipped):
    props = container(shipped, "gateway-mcp")
    props["ports"] = [{"internal": 8000, "external": 8000}]
    assert check("no-published-ports", CONTAINER, props, {"allowedPorts": {"gateway-mcp": [8000]}}) == []


def test_privileged(shipped):
    props = container(shipped)
    props["privileged"] = True
    assert check("no-privileged-containers", CONTAINER, props)
    assert check("no-privileged-containers", CONTAINER, props, {"allowedServices": ["orchestrator"]}) == []


def test_docker_socket(shipped):
    props = container(shipped)
    props["volumes"].append({"hostPath": "/var/run/docker.sock", "containerPath": "/var/run/docker.sock", "readOnly": True})
    assert "mounts the Docker socket" in check("docker-socket-mount", CONTAINER, props)[0]
    alloy = set_label(copy.deepcopy(props), "devtools.service", "alloy")
    assert check("docker-socket-mount", CONTAINER, alloy) == []
    alloy["volumes"][-1]["readOnly"] = False
    assert check("docker-socket-mount", CONTAINER, alloy) == ["mounts the Docker socket (/var/run/docker.sock) writable"]
    assert check("docker-socket-mount", CONTAINER, props, {"allowedServices": ["orchestrator"]}) == []


def test_no_new_privileges(shipped):
    props = container(shipped)
    props["securityOpts"] = []
    assert check("no-new-privileges", CONTAINER, props)
    props["securityOpts"] = ["no-new-privileges=true"]
    assert check("no-new-privileges", CONTAINER, props) == []


def test_capabilities(shipped):
    props = container(shipped, "postgres")
    props["capabilities"] = {"adds": ["CHOWN"]}
    assert check("capabilities-dropped", CONTAINER, props) == ["keeps Docker's default capabilities (capabilities.drops lacks ALL)"]
    props["capabilities"] = {"drops": ["ALL"], "adds": ["SYS_ADMIN", "CHOWN"]}
    assert check("capabilities-dropped", CONTAINER, props) == ["adds host-level capabilities SYS_ADMIN"]


def test_log_rotation(shipped):
    props = container(shipped)
    props["logOpts"] = {"max-size": "10m"}
    assert "without max-file" in check("log-rotation", CONTAINER, props)[0]
    props.pop("logDriver")
    props.pop("logOpts")
    assert check("log-rotation", CONTAINER, props)
    props["logDriver"] = "local"
    assert check("log-rotation", CONTAINER, props) == []


@pytest.mark.parametrize("key, value", [("networkMode", "host"), ("pidMode", "host"), ("ipcMode", "host"),
                                        ("usernsMode", "host"), ("networkMode", "container:abc"), ("cgroupnsMode", "host")])
def test_host_namespaces(shipped, key, value):
    props = container(shipped)
    assert check("no-host-namespaces", CONTAINER, props) == []
    props[key] = value
    assert check("no-host-namespaces", CONTAINER, props)


def test_sensitive_host_mounts(shipped):
    props = container(shipped)
    props["volumes"].append({"hostPath": "/etc", "containerPath": "/host/etc", "readOnly": False})
    assert check("no-sensitive-host-mounts", CONTAINER, props) == ["mounts host directory /etc writable"]
    props["volumes"][-1] = {"hostPath": "/proc", "containerPath": "/host/proc", "readOnly": True}
    assert check("no-sensitive-host-mounts", CONTAINER, props) == ["mounts host directory /proc (read-only)"]
    exporter = set_label(props, "devtools.service", "node-exporter")
    assert check("no-sensitive-host-mounts", CONTAINER, exporter) == []
    # The data volume's directories are not system directories.
    assert check("no-sensitive-host-mounts", CONTAINER, container(shipped, "postgres")) == []


def test_host_devices(shipped):
    props = container(shipped)
    props["devices"] = [{"hostPath": "/dev/kmsg"}]
    assert check("no-host-devices", CONTAINER, props) == ["has host device /dev/kmsg"]
    assert check("no-host-devices", CONTAINER, set_label(props, "devtools.service", "cadvisor")) == []


def test_mount_propagation(shipped):
    props = container(shipped)
    props["mounts"] = [{"type": "bind", "source": "/mnt/x", "target": "/x", "bindOptions": {"propagation": "rshared"}}]
    assert check("mount-propagation-private", CONTAINER, props) == ["bind mount /mnt/x uses rshared propagation"]
    props["mounts"][0]["bindOptions"]["propagation"] = "rprivate"
    assert check("mount-propagation-private", CONTAINER, props) == []


@pytest.mark.parametrize("opt", ["seccomp=unconfined", "apparmor:unconfined", "label=disable"])
def test_security_profiles(shipped, opt):
    props = container(shipped)
    props["securityOpts"].append(opt)
    assert check("security-profiles-confined", CONTAINER, props)
    assert check("security-profiles-confined", CONTAINER, container(shipped)) == []


def test_user_defined_network(shipped):
    props = container(shipped)
    props["networksAdvanced"] = []
    assert check("user-defined-network", CONTAINER, props)
    props = container(shipped)
    props["networkMode"] = "bridge"
    assert check("user-defined-network", CONTAINER, props)


def test_default_cgroup(shipped):
    props = container(shipped)
    props["cgroupParent"] = "/custom"
    assert check("default-cgroup", CONTAINER, props)


def test_read_only_root(shipped):
    props = container(shipped)
    assert check("read-only-root-filesystem", CONTAINER, props)
    props["readOnly"] = True
    assert check("read-only-root-filesystem", CONTAINER, props) == []


def test_uploads_need_writable_root(shipped):
    props = container(shipped, "redis")  # receives redis.conf and the ACL file
    assert check("uploads-need-writable-root", CONTAINER, props) == []
    props["readOnly"] = True
    assert check("uploads-need-writable-root", CONTAINER, props) == [
        "the root filesystem is read-only, so Docker cannot upload "
        + ", ".join(u["file"] for u in props["uploads"]) + " into it"]
    bare = container(shipped, "node-exporter")  # read-only and given no files: fine
    assert bare["readOnly"] is True and not bare.get("uploads")
    assert check("uploads-need-writable-root", CONTAINER, bare) == []


# --- host ---

def test_droplet_backups_monitoring(shipped):
    droplet = copy.deepcopy(shipped["droplet"])
    droplet["backups"] = False
    droplet.pop("monitoring")
    assert [m.split(":")[0] for m in check("droplet-backups-monitoring", DROPLET, droplet)] == ["backups is off", "monitoring is off"]


@pytest.mark.parametrize("port_range, sources, fires", [
    ("22", ["0.0.0.0/0"], True), ("22", ["::/0"], True), ("5432", ["0.0.0.0/0"], True),
    ("1-65535", ["0.0.0.0/0"], True), ("", ["::/0"], True), ("6000-7000", ["0.0.0.0/0"], True),
    ("22", ["198.51.100.7/32"], False), ("443", ["0.0.0.0/0"], False),
])
def test_firewall(shipped, port_range, sources, fires):
    firewall = copy.deepcopy(shipped["firewall"])
    firewall["inboundRules"].append({"protocol": "tcp", "portRange": port_range, "sourceAddresses": sources})
    assert bool(check("firewall-no-public-admin-ports", FIREWALL, firewall)) is fires


def test_stack_settings_placeholders(shipped):
    droplet = copy.deepcopy(shipped["droplet"])
    droplet["sshKeys"] = ["<your-ssh-key-fingerprint>"]
    assert check("stack-settings-not-placeholders", DROPLET, droplet)[0].startswith("sshKeys[0]: value")
    provider = copy.deepcopy(shipped["provider"])
    provider["host"] = "ssh://root@CHANGEME"
    assert check("stack-settings-not-placeholders", "pulumi:providers:docker", provider)


# --- stack ---

def _stack_with(shipped, service, **inputs):
    resources = copy.deepcopy(shipped["stack"])
    for r in resources:
        if r.type == CONTAINER and r.name == service:
            r.props.update(inputs)
    return resources


def test_memory_capacity(shipped):
    resources = _stack_with(shipped, "postgres", memoryReservation=12 * 1024, memory=12 * 1024)
    found = check_stack("memory-capacity", resources)
    assert [urn for urn, _ in found] == [None, None]
    assert "memory reservations total" in found[0][1] and "memory limits total" in found[1][1]
    # The reserve and the factor come from policy config.
    assert check_stack("memory-capacity", shipped["stack"], {"hostReserveMiB": 15 * 1024})


def test_cpu_capacity(shipped):
    assert check_stack("cpu-capacity", _stack_with(shipped, "redis", cpus="8"))  # 19.0 > 2 x 8
    assert check_stack("cpu-capacity", _stack_with(shipped, "redis", cpuShares=9 * 1024))
    assert check_stack("cpu-capacity", shipped["stack"], {"limitOvercommitFactor": 1.2})


def test_network_segmentation(shipped):
    data_net = {"name": "devtools-data", "aliases": ["x"]}
    edge_net = {"name": "devtools-edge", "aliases": ["x"]}
    resources = _stack_with(shipped, "postgres", networksAdvanced=[data_net, edge_net])
    assert [m for _, m in check_stack("network-segmentation", resources)] == ["datastore postgres joins the edge network"]
    resources = _stack_with(shipped, "gateway-mcp", networksAdvanced=[edge_net, data_net])
    for r in resources:
        if r.name == "gateway-mcp":
            # Whatever it is called: the edge is the container with the edge role.
            r.props["labels"] = [{"label": "devtools.service", "value": "front-door"}, {"label": "devtools.role", "value": "edge"}]
    assert [m for _, m in check_stack("network-segmentation", resources)] == ["the edge proxy joins the data network"]
    # The orchestrator (edge + app + data) is the application tier, allowed on both.
    assert check_stack("network-segmentation", shipped["stack"]) == []


def test_data_network_must_be_internal(shipped):
    resources = copy.deepcopy(shipped["stack"])
    next(r for r in resources if r.type == "docker:index/network:Network" and r.props["name"] == "devtools-data").props["internal"] = False
    assert "is not internal" in check_stack("network-segmentation", resources)[0][1]


def test_volumes_not_shared(shipped):
    volume = {"hostPath": "/mnt/devtools-data/postgres-data", "containerPath": "/var/lib/postgresql/data", "readOnly": False}
    resources = _stack_with(shipped, "agent-registry", volumes=[volume])
    found = [m for _, m in check_stack("volumes-not-shared", resources) if "postgres-data" in m]
    assert len(found) == 2 and all("shared by agent-registry, postgres" in m for m in found)
    volume["readOnly"] = True  # the other reads only; postgres is still the only writer... and shares it
    found = [m for _, m in check_stack("volumes-not-shared", _stack_with(shipped, "agent-registry", volumes=[volume])) if "postgres-data" in m]
    assert len(found) == 2


def test_uploaded_code_reading_a_secret_file_is_fine_and_a_literal_in_code_fires(shipped):
    # The backup job's own program passes credentials it read from the files its *_FILE variables name.
    # It is baked into the backup image; uploaded here, it is code the rule reads.
    props = container(shipped, "backup")
    script = {"file": "/opt/backup/datastore_backup.py", "content": BACKUP_SCRIPT.read_text()}
    props["uploads"].append(script)
    assert check("no-hardcoded-credentials", CONTAINER, props) == []
    script["content"] += '\naws_secret_access_key = "wJalrXUtnFEMI/K7MDENG-literal"\n'
    found = check("no-hardcoded-credentials", CONTAINER, props)
    assert any("aws_secret_access_key holds a literal credential" in m for m in found)
