"""Rules on the droplet, its firewall, and the stack settings they carry."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from .docker import DOCKER_PROVIDER
from .metadata import DATABASE_PORTS, PORTS, policy
from .placeholders import placeholder_reason
from .values import as_list, is_unknown, leaves

DROPLET = "digitalocean:index/droplet:Droplet"
FIREWALL = "digitalocean:index/firewall:Firewall"
SSH_PORT = 22


@policy("droplet-backups-monitoring", severity="high",
      description="The droplet keeps weekly backups and the monitoring agent on (backups=True, monitoring=True "
                  "in targets/droplet/host.py).",
      covers=("audit: no disaster recovery plan",))
def droplet_backups_monitoring(resource_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    if resource_type != DROPLET:
        return []
    found = []
    for key, why in (("backups", "no weekly backups to restore from"), ("monitoring", "no metrics agent for alerting")):
        value = props.get(key)
        if not is_unknown(value) and value is not True:
            found.append(f"{key} is off: {why}")
    return found


def _ports(port_range: Any) -> tuple[int, int] | None:
    """`22`, `8000-8100`, `all` or empty (= every port) -> (first, last)."""
    if is_unknown(port_range):
        return None
    text = str(port_range or "all").strip().lower()
    if text in ("all", "", "1-65535", "0"):
        return 1, 65535
    first, _, last = text.partition("-")
    try:
        return int(first), int(last or first)
    except ValueError:
        return None


def _is_anywhere(address: Any) -> bool:
    try:
        return isinstance(address, str) and ipaddress.ip_network(address, strict=False).prefixlen == 0
    except ValueError:
        return False


@policy("firewall-no-public-admin-ports", severity="critical",
      description="The firewall never opens SSH or a database port to 0.0.0.0/0 or ::/0: list the admins' "
                  "addresses in devtools:adminCidrs, and reach databases through SSH.",
      settings={"databasePorts": {**PORTS, "default": DATABASE_PORTS,
                                  "description": "ports never open to the internet"}},
      covers=("audit: no network policies",))
def firewall_admin_ports(resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    if resource_type != FIREWALL:
        return []
    closed = {SSH_PORT, *(int(p) for p in config.get("databasePorts") or [])}
    found = []
    for rule in as_list(props.get("inboundRules")):
        if not isinstance(rule, Mapping) or rule.get("protocol") == "icmp":
            continue
        span = _ports(rule.get("portRange"))
        addresses = rule.get("sourceAddresses")
        # One address given as text instead of a list is still judged (the shape rule reports the type).
        sources = [a for a in ([addresses] if isinstance(addresses, str) else as_list(addresses)) if _is_anywhere(a)]
        if span is None or not sources:
            continue
        hit = sorted(p for p in closed if span[0] <= p <= span[1])
        if hit:
            found.append(f"inbound {rule.get('protocol')}/{rule.get('portRange') or 'all'} from {', '.join(sources)} "
                         f"opens {'SSH' if SSH_PORT in hit else 'database'} port(s) {', '.join(map(str, hit))} to the internet")
    return found


@policy("stack-settings-not-placeholders", severity="high",
      description="Stack settings that reach the cloud (droplet, firewall, SSH keys, tags, ...) hold real "
                  "values, not stand-ins: `pulumi config set devtools:<key> <real value>`.",
      covers=("audit: environment validation script (P0)",))
def stack_settings_placeholders(resource_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    """Stack settings reach the cloud through the DigitalOcean resources and the Docker provider's inputs."""
    if not (resource_type.startswith("digitalocean:") or resource_type == DOCKER_PROVIDER):
        return []
    found = []
    for where, value in leaves("", props):
        reason = placeholder_reason(value)
        if reason:
            found.append(f"{where}: value {reason}")
    return found
